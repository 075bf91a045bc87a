import NIOCore
import NIOSSL
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// TLS for the streaming server (CRI-O's `stream_enable_tls`) and the
/// metrics endpoint: the certificate and key, and optionally a CA that
/// client certificates must chain to. The files are read again when they
/// change, so a rotated certificate is served to the next connection
/// without a restart.
public final class StreamingTLS: Sendable {
  public let certificatePath: String
  public let keyPath: String
  public let clientCAPath: String?
  private let cache = Mutex<(stamp: [Int64], context: NIOSSLContext)?>(nil)

  /// Reads the files once now, so a bad certificate stops start-up.
  public init(certificatePath: String, keyPath: String, clientCAPath: String?) throws {
    self.certificatePath = certificatePath
    self.keyPath = keyPath
    self.clientCAPath = clientCAPath
    _ = try context()
  }

  /// The context for a new connection: the cached one unless a file
  /// changed. A changed set that cannot be read (a rotation half done, a
  /// bad file) keeps the previous context, as CRI-O keeps its previous
  /// certificate; it is tried again at the next connection.
  public func context() throws -> NIOSSLContext {
    let stamp = [certificatePath, keyPath, clientCAPath].map { $0.map(Self.modificationStamp) ?? 0 }
    let cached = cache.withLock { $0 }
    if let cached, cached.stamp == stamp { return cached.context }
    do {
      return try load(stamp: stamp)
    } catch {
      guard let cached else { throw error }
      return cached.context
    }
  }

  private func load(stamp: [Int64]) throws -> NIOSSLContext {
    var configuration = TLSConfiguration.makeServerConfiguration(
      certificateChain: try NIOSSLCertificate.fromPEMFile(certificatePath).map { .certificate($0) },
      privateKey: .privateKey(try NIOSSLPrivateKey(file: keyPath, format: .pem)))
    if let clientCAPath {
      configuration.trustRoots = .file(clientCAPath)
      configuration.certificateVerification = .noHostnameVerification
    }
    let context = try NIOSSLContext(configuration: configuration)
    cache.withLock { $0 = (stamp, context) }
    return context
  }

  /// The hook for `StreamingServerConfiguration.channelInitializerPrefix`.
  public var channelInitializer: @Sendable (any Channel) -> EventLoopFuture<Void> {
    // Child channel initializers run on the channel's event loop, where the
    // pipeline may be changed synchronously.
    { [self] channel in
      channel.eventLoop.makeCompletedFuture {
        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: try context()))
      }
    }
  }

  /// Modification time and size: what changes when a file is rewritten.
  static func modificationStamp(_ path: String) -> Int64 {
    var info = stat()
    guard stat(path, &info) == 0 else { return -1 }
    return Int64(info.st_mtim.tv_sec) &* 1_000_000_000 &+ Int64(info.st_mtim.tv_nsec) &+ Int64(info.st_size) &* 31
  }
}
