import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import OCI

extension RegistryClient {
  /// Streams a blob into `destination` (created or truncated, mode 0600),
  /// hashing as it goes, so memory stays flat whatever the size. The file is
  /// removed on any failure: a digest or size mismatch (`.digestMismatch`),
  /// no data for `progressTimeout` once the response started (`.noProgress`),
  /// or cancellation of the calling task (`.cancelled`).
  public func fetchBlob(
    _ endpoint: Endpoint, digest: Digest, expectedSize: Int64?, credentials: Credentials?, to destination: String,
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
        try await Self.stream(response.body, to: destination, digest: digest, expectedSize: expectedSize, meter: meter)
      }
    } catch is StalledError {
      throw .noProgress(seconds: max(1, progressTimeout?.wholeSeconds ?? 0))
    } catch {
      throw mapStreamError(error, what: what, host: endpoint.host)
    }
  }

  /// Writes the body to the file, checking size and digest; deletes the file
  /// unless everything matched.
  static func stream(
    _ body: HTTPClientResponse.Body, to destination: String, digest: Digest, expectedSize: Int64?, meter: ProgressMeter
  ) async throws {
    let file = try BlobFile(creating: destination)
    do {
      var hasher = ContentHasher(for: digest)
      var received: Int64 = 0
      for try await chunk in body {
        meter.touch()
        received += Int64(chunk.readableBytes)
        if let expectedSize, received > expectedSize {
          throw RegistryError.digestMismatch(expected: digest, actual: "more than the \(expectedSize) bytes expected")
        }
        try chunk.withUnsafeReadableBytes { bytes throws(RegistryError) in
          hasher.update(bytes)
          try file.write(bytes)
        }
      }
      // A cancelled body stream can end early without an error.
      if Task.isCancelled { throw RegistryError.cancelled }
      if let expectedSize, received != expectedSize {
        throw RegistryError.digestMismatch(expected: digest, actual: "\(received) bytes, \(expectedSize) expected")
      }
      let actual = hasher.finalize()
      guard actual == digest else { throw RegistryError.digestMismatch(expected: digest, actual: actual.description) }
      try file.finish()
    } catch {
      file.discard()
      throw error
    }
  }
}
