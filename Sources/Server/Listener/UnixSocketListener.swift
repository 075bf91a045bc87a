#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import GRPCNIOTransportHTTP2Posix
import NIOCore
import NIOPosix
import Support

/// Binds the CRI socket and hands each accepted connection to gRPC, after a
/// `ProtocolSniffer` at the head of its pipeline has had a look: CRI-O serves
/// its HTTP/1 inspection API (read by cAdvisor in kubelet) on the same socket
/// as gRPC, so an HTTP/1 request must be told from HTTP/2 and answered there.
struct UnixSocketListener: HTTP2ServerTransport.ListenerFactory {
  let path: String
  let eventLoopGroup: any EventLoopGroup
  let http1Responder: HTTP1Responder
  /// Called once the socket is bound and its mode set.
  let onListening: @Sendable () -> Void

  func makeListeningChannel(
    listenerConfigurator: HTTP2ServerTransport.ListenerConfigurator,
    connectionConfigurator: HTTP2ServerTransport.ConnectionConfigurator
  ) async throws -> NIOAsyncChannel<HTTP2ServerTransport.ConnectionConfigurator.ConnectionChannel, Never> {
    let responder = http1Responder
    // bind(2) creates the socket file with the umask applied; this umask
    // makes it 0660 from the first moment a client can connect. Start-up is
    // the only thing running, so the process-wide change cannot race.
    let previousUmask = umask(0o117)
    defer { umask(previousUmask) }
    let channel = try await ServerBootstrap(group: eventLoopGroup)
      .serverChannelInitializer { channel in
        listenerConfigurator.configure(channel: channel)
      }
      .bind(unixDomainSocketPath: path) { channel in
        channel.eventLoop.makeCompletedFuture {
          try channel.pipeline.syncOperations.addHandler(ProtocolSniffer(responder: responder))
        }.flatMap {
          connectionConfigurator.configure(channel: channel, tls: .none)
        }
      }
    // kubelet runs as root; CRI-O leaves the socket to root and its group.
    // chmod as well, in case the file system ignores the umask (ACLs).
    guard chmod(path, 0o660) == 0 else {
      try? await channel.channel.close()
      throw DaemonError.socket(path: path, reason: "cannot set its mode to 0660: \(SystemError("chmod").reason)")
    }
    onListening()
    return channel
  }
}

/// Prepares the socket path before binding: creates the parent directories,
/// refuses to start when another daemon answers on the socket, and removes a
/// stale socket file left by a daemon that died.
enum SocketPath {
  static func prepare(_ path: String) throws(DaemonError) {
    guard path.hasPrefix("/") else {
      throw .socket(path: path, reason: "the listen path must be absolute")
    }
    // sockaddr_un.sun_path holds 108 bytes including the terminating NUL.
    guard path.utf8.count < 108 else {
      throw .socket(path: path, reason: "the path is longer than the 107 bytes a Unix socket address holds")
    }
    let parent = String(path[..<path.lastIndex(of: "/")!])
    try makeDirectories(parent.isEmpty ? "/" : parent, mode: 0o755)

    var info = stat()
    guard lstat(path, &info) == 0 else { return }  // nothing there yet
    guard info.st_mode & S_IFMT == S_IFSOCK else {
      throw .socket(path: path, reason: "a file that is not a socket is in the way; remove it or choose another --listen path")
    }
    if UnixSocket.isAnswering(path) {
      throw .alreadyRunning(path: path)
    }
    guard unlink(path) == 0 || errno == ENOENT else {
      throw .socket(path: path, reason: "cannot remove the stale socket: \(SystemError("unlink").reason)")
    }
  }
}

/// `mkdir -p` with a mode for the directories it creates.
func makeDirectories(_ path: String, mode: mode_t) throws(DaemonError) {
  do {
    try Files.makeDirectories(path, mode: mode)
  } catch {
    throw .directory(path: error.path ?? path, reason: error.reason)
  }
}
