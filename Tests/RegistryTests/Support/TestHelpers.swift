import Foundation
import Logging
import OCI
@testable import Registry
import Support
import Synchronization
import TestFixtures
import Testing

/// A client with short retry delays, shut down after `body` whatever happens
/// (AsyncHTTPClient traps on a client dropped without shutdown).
func withClient<T>(
  requestTimeout: Duration = .seconds(10), retryDelays: [Duration] = [.milliseconds(20), .milliseconds(40)],
  _ body: (RegistryClient) async throws -> T
) async throws -> T {
  var logger = Logger(label: "registry-tests")
  logger.logLevel = .critical
  let client = RegistryClient(logger: logger, requestTimeout: requestTimeout, retryDelays: retryDelays)
  return try await withCleanUp { try await body(client) } cleanUp: { await client.shutdown() }
}

/// Runs `body` with a scripted server and stops it afterwards.
func withScriptedServer<T>(
  _ handler: @escaping @Sendable (ScriptedRequest) -> ScriptedResponse, _ body: (ScriptedHTTPServer) async throws -> T
) async throws -> T {
  let server = try ScriptedHTTPServer(handler)
  return try await withCleanUp { try await body(server) } cleanUp: { await server.stop() }
}

/// A temporary directory, removed after `body`.
func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
  let directory = try Files.makeTemporaryDirectory(prefix: "registry-tests-")
  defer { Files.removeTree(directory) }
  return try await body(directory)
}

func randomBytes(_ count: Int) -> [UInt8] {
  var generator = SystemRandomNumberGenerator()
  return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
}

/// An image whose layers are random bytes: the registry never looks inside.
func pushTestImage(
  _ pusher: ImagePusher, repository: String, tag: String = "latest", layerSizes: [Int] = [1000, 70_000],
  manifestMediaType: String = MediaType.ociManifest
) async throws -> (image: PushedImage, layers: [[UInt8]]) {
  let layers = layerSizes.map(randomBytes)
  let image = try await pusher.pushImage(
    repository: repository, tag: tag,
    layers: layers.map { (bytes: $0, mediaType: MediaType.ociLayerGzip, diffID: Digest.sha256(of: $0)) },
    config: ImageConfiguration(architecture: "amd64", os: "linux", rootfs: .init(diffIDs: [])),
    manifestMediaType: manifestMediaType)
  return (image, layers)
}

/// The RegistryError `body` throws; nil (and a recorded issue for any
/// other error) if it throws something else or succeeds.
func registryError(_ body: () async throws -> Void) async -> RegistryError? {
  do {
    try await body()
    return nil
  } catch let error as RegistryError {
    return error
  } catch {
    Issue.record("expected a RegistryError, got \(error)")
    return nil
  }
}

func fileExists(_ path: String) -> Bool { Files.kind(of: path) != .missing }

let sampleDigest = try! Digest(parsing: "sha256:" + String(repeating: "ab", count: 32))

/// Reads a BytePipe to its end on a thread of its own, as the layer
/// unpacker does: what arrived, and how the stream ended.
final class PipeReader: Sendable {
  let pipe = BytePipe(capacity: 4)
  private let received = Mutex(0)

  /// Bytes read so far.
  var count: Int { received.withLock { $0 } }

  func readAll() async -> (bytes: [UInt8], end: BytePipe.ReadResult) {
    await Blocking.runOnOwnThread { [self] in
      var bytes: [UInt8] = []
      var chunk = [UInt8](repeating: 0, count: 1 << 16)
      while true {
        let result = chunk.withUnsafeMutableBytes { pipe.read(into: $0) }
        guard case .bytes(let count) = result else { return (bytes, result) }
        bytes += chunk[..<count]
        received.withLock { $0 += count }
      }
    }
  }
}
