import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import OCI
import Support

extension RegistryClient {
  /// Streams a blob into `pipe` as it arrives, hashing as it goes, so the
  /// consumer (a layer being unpacked) works while the download runs and
  /// memory stays flat whatever the size. The pipe is finished only when
  /// size and digest matched; on any failure it is failed with the reason
  /// and the error thrown: a digest or size mismatch (`.digestMismatch`), no
  /// data for `progressTimeout` once the response started (`.noProgress`),
  /// or cancellation of the calling task (`.cancelled`). A consumer that
  /// abandons the pipe stops the download.
  public func fetchBlob(
    _ endpoint: Endpoint, digest: Digest, expectedSize: Int64?, credentials: Credentials?, into pipe: BytePipe,
    progressTimeout: Duration?
  ) async throws(RegistryError) {
    do throws(RegistryError) {
      try await download(endpoint, digest: digest, expectedSize: expectedSize, credentials: credentials, into: pipe, progressTimeout: progressTimeout)
      pipe.finish()
    } catch {
      pipe.fail("\(error)")
      throw error
    }
  }

  private func download(
    _ endpoint: Endpoint, digest: Digest, expectedSize: Int64?, credentials: Credentials?, into pipe: BytePipe,
    progressTimeout: Duration?
  ) async throws(RegistryError) {
    let what = "blob \(endpoint)@\(digest)"
    let response = try await authorizedGET(
      endpoint, path: "/v2/\(endpoint.repository)/blobs/\(digest)", accept: nil, credentials: credentials)
    try await requireSuccess(response, what: what, endpoint: endpoint)
    if let expectedSize, let length = response.headers.first(name: "Content-Length").flatMap(Int64.init), length != expectedSize {
      await discard(response)
      throw .digestMismatch(expected: digest, actual: "\(length) bytes announced, \(expectedSize) expected")
    }
    do {
      try await withProgressTimeout(progressTimeout) { meter async throws -> Void in
        try await Self.stream(response.body, into: pipe, digest: digest, expectedSize: expectedSize, meter: meter)
      }
    } catch is StalledError {
      throw .noProgress(seconds: max(1, progressTimeout?.wholeSeconds ?? 0))
    } catch is BytePipe.Abandoned {
      throw .cancelled
    } catch {
      throw mapStreamError(error, what: what, host: endpoint.host)
    }
  }

  /// Hands the body to the pipe chunk by chunk, checking size and digest.
  static func stream(
    _ body: HTTPClientResponse.Body, into pipe: BytePipe, digest: Digest, expectedSize: Int64?, meter: ProgressMeter
  ) async throws {
    var hasher = ContentHasher(for: digest)
    var received: Int64 = 0
    for try await chunk in body {
      meter.touch()
      received += Int64(chunk.readableBytes)
      if let expectedSize, received > expectedSize {
        throw RegistryError.digestMismatch(expected: digest, actual: "more than the \(expectedSize) bytes expected")
      }
      chunk.withUnsafeReadableBytes { hasher.update($0) }
      // Waiting for the consumer is not the registry stalling.
      try await meter.holding { try await pipe.send(chunk) }
    }
    // A cancelled body stream can end early without an error.
    if Task.isCancelled { throw RegistryError.cancelled }
    if let expectedSize, received != expectedSize {
      throw RegistryError.digestMismatch(expected: digest, actual: "\(received) bytes, \(expectedSize) expected")
    }
    let actual = hasher.finalize()
    guard actual == digest else { throw RegistryError.digestMismatch(expected: digest, actual: actual.description) }
  }
}

/// A network buffer handed to a BytePipe as it is: no copy until the consumer's.
extension ByteBuffer: ByteChunk {
  public var byteCount: Int { readableBytes }

  public func copyBytes(from offset: Int, into destination: UnsafeMutableRawBufferPointer) -> Int {
    withUnsafeReadableBytes { $0.copyBytes(from: offset, into: destination) }
  }
}
