import AsyncHTTPClient
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import OCI
import Support
import Synchronization

/// A manifest or index as the registry served it.
public struct FetchedManifest: Sendable, Equatable {
  public var bytes: [UInt8]
  /// From Content-Type, or from the document when the registry sent none
  /// that names a manifest type.
  public var mediaType: String
  /// Of `bytes`: sha256, or the algorithm of the digest it was fetched by.
  public var digest: Digest

  public init(bytes: [UInt8], mediaType: String, digest: Digest) {
    self.bytes = bytes
    self.mediaType = mediaType
    self.digest = digest
  }
}

/// The distribution v2 (pull) client. One instance serves every pull of the
/// daemon: connections, learnt auth challenges and bearer tokens are shared.
/// Call `shutdown()` before dropping it.
public final class RegistryClient: Sendable {
  /// containers-image's limit on manifests.
  static let manifestSizeLimit = 4 << 20
  /// Configurations and other documents fetched into memory.
  static let smallBlobSizeLimit = 8 << 20
  static let userAgent = "crio-swift"

  let logger: Logger
  let requestTimeout: Duration
  /// The HTTP clients, made at the first request: an idle daemon keeps
  /// neither them nor the download thread (nor the pages of their code)
  /// until something is pulled.
  private let clients = Mutex<Clients>(.none)
  private let verifying: HTTPClient.Configuration
  private let unverified: HTTPClient.Configuration
  let authCache = AuthCache()
  /// Insecure hosts whose scheme is known: true when only plain HTTP worked.
  let plainHTTPHosts = Mutex<[String: Bool]>([:])
  /// Waits before the second and third attempt of a transient failure.
  let retryDelays: [Duration]

  /// Pulls' own event loop thread, at a lower priority: hashing and writing
  /// layer bytes as they stream in never takes a turn of the gRPC server's
  /// event loops, and on a busy node the RPCs go first.
  static let downloadLoop: MultiThreadedEventLoopGroup = {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    group.next().execute { Blocking.lowerThreadPriority(by: 5) }
    return group
  }()

  public convenience init(logger: Logger, requestTimeout: Duration = .seconds(60)) {
    self.init(logger: logger, requestTimeout: requestTimeout, retryDelays: [.milliseconds(200), .milliseconds(400)])
  }

  init(logger: Logger, requestTimeout: Duration, retryDelays: [Duration]) {
    self.logger = logger
    self.requestTimeout = requestTimeout
    self.retryDelays = retryDelays
    let timeout = HTTPClient.Configuration.Timeout(connect: min(requestTimeout, .seconds(30)).timeAmount, read: nil)
    var verifying = HTTPClient.Configuration(redirectConfiguration: .follow(max: 10, allowCycles: false), timeout: timeout)
    var unverified = HTTPClient.Configuration(
      certificateVerification: .none, redirectConfiguration: .follow(max: 10, allowCycles: false), timeout: timeout)
    // Failed connections are retried here, with backoff and a bound, rather
    // than by the pool until the connect timeout: a registry that is down
    // should fail a pull in about a second.
    verifying.connectionPool.retryConnectionEstablishment = false
    unverified.connectionPool.retryConnectionEstablishment = false
    self.verifying = verifying
    self.unverified = unverified
  }

  private enum Clients: Sendable {
    case none
    /// For secure endpoints, certificates verified; and for insecure ones,
    /// HTTPS without verification and plain HTTP.
    case open(verifying: HTTPClient, unverified: HTTPClient)
    case shutDown
  }

  /// The client for a request, made with its twin on first use. Nil once
  /// shut down.
  func client(verifying verify: Bool) -> HTTPClient? {
    clients.withLock { clients in
      if case .none = clients {
        clients = .open(
          verifying: HTTPClient(eventLoopGroup: Self.downloadLoop, configuration: verifying, backgroundActivityLogger: logger),
          unverified: HTTPClient(eventLoopGroup: Self.downloadLoop, configuration: unverified, backgroundActivityLogger: logger))
      }
      guard case .open(let verifying, let unverified) = clients else { return nil }
      return verify ? verifying : unverified
    }
  }

  /// Closes every connection. Requests still running fail, and later ones too.
  public func shutdown() async {
    let open = clients.withLock { clients in
      defer { clients = .shutDown }
      guard case .open(let verifying, let unverified) = clients else { return [HTTPClient]() }
      return [verifying, unverified]
    }
    for client in open {
      do {
        try await client.shutdown()
      } catch {
        logger.debug("registry client shutdown: \(error)")
      }
    }
  }

  /// GET /v2/<repository>/manifests/<reference>, accepting every manifest
  /// and index type this runtime handles. A digest reference is verified.
  public func fetchManifest(_ endpoint: Endpoint, reference: String, credentials: Credentials?) async throws(RegistryError) -> FetchedManifest {
    var expected: Digest?
    if reference.contains(":") {
      do {
        expected = try Digest(parsing: reference)
      } catch {
        throw .invalidReference(reference, reason: error.description)
      }
    }
    let what = "manifest \(endpoint)\(expected == nil ? ":" : "@")\(reference)"
    let response = try await authorizedGET(
      endpoint, path: "/v2/\(endpoint.repository)/manifests/\(reference)",
      accept: MediaType.acceptedManifests, credentials: credentials)
    try await requireSuccess(response, what: what, endpoint: endpoint)
    let bytes = try await readBody(response, limit: Self.manifestSizeLimit, what: what, host: endpoint.host)
    let mediaType = Self.manifestMediaType(contentType: response.headers.first(name: "Content-Type"), bytes: bytes)
    if MediaType.isSchema1(mediaType) {
      throw .unsupportedManifest("\(what): \(OCIError.unsupportedMediaType(mediaType).description)")
    }
    guard MediaType.isIndex(mediaType) || MediaType.isManifest(mediaType) else {
      throw .unsupportedManifest(
        "\(what) has media type \"\(mediaType)\", which is not an OCI or Docker image manifest or index")
    }
    let digest = ContentHasher.digest(of: bytes, like: expected)
    if let expected, digest != expected {
      throw .digestMismatch(expected: expected, actual: digest.description)
    }
    return FetchedManifest(bytes: bytes, mediaType: mediaType, digest: digest)
  }

  /// A small blob (an image configuration) in memory, verified against its
  /// digest and refused above 8 MiB.
  public func fetchBlobBytes(_ endpoint: Endpoint, digest: Digest, credentials: Credentials?) async throws(RegistryError) -> [UInt8] {
    let what = "blob \(endpoint)@\(digest)"
    let response = try await authorizedGET(
      endpoint, path: "/v2/\(endpoint.repository)/blobs/\(digest)", accept: nil, credentials: credentials)
    try await requireSuccess(response, what: what, endpoint: endpoint)
    let bytes = try await readBody(response, limit: Self.smallBlobSizeLimit, what: what, host: endpoint.host)
    let actual = ContentHasher.digest(of: bytes, like: digest)
    guard actual == digest else { throw .digestMismatch(expected: digest, actual: actual.description) }
    return bytes
  }

  /// The manifest's type: Content-Type when it names a manifest type, else
  /// what the document declares (registries may send application/json or
  /// text/plain), else whatever Content-Type said.
  static func manifestMediaType(contentType: String?, bytes: [UInt8]) -> String {
    let sent = contentType.map { value in
      String(value.split(separator: ";", maxSplits: 1).first ?? "").trimmingSpaces.lowercased()
    } ?? ""
    if MediaType.acceptedManifests.contains(sent) || MediaType.isSchema1(sent) { return sent }
    return OCIJSON.declaredMediaType(of: bytes) ?? sent
  }
}

extension Duration {
  var timeAmount: TimeAmount {
    let (seconds, attoseconds) = components
    return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
  }

  var wholeSeconds: Int { Int(components.seconds) }
}

extension String {
  var trimmingSpaces: String {
    String(drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
  }
}
