#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOPosix
import Streaming
import Synchronization

/// A stand-in for the containers: exec runs tiny in-memory "commands", and
/// port-forward dials 127.0.0.1. The daemon's real runtime (conmon/runc
/// exec, attach sockets, the pod's network namespace) is wired in by the
/// lead engineer and covered by the integration tests.
final class TestRuntime: StreamingRuntime {
  struct Failure: Error, CustomStringConvertible {
    let description: String
  }

  /// What the runtime saw, for tests that check cancellation.
  let started = Mutex<[String]>([])
  let cancelled = Mutex<[String]>([])

  func exec(_ request: ExecRequest, io: StreamingIO) async throws -> Int32 {
    let arguments = Array(request.command.dropFirst())
    started.withLock { $0.append(request.command.first ?? "") }
    switch request.command.first {
    case "echo":
      try await io.stdout?.write(Array((arguments.joined(separator: " ") + "\n").utf8))
      return 0
    case "stderr":
      try await io.stderr?.write(Array((arguments.joined(separator: " ") + "\n").utf8))
      return 0
    case "exit":
      return Int32(arguments.first ?? "1") ?? 1
    case "cat":
      if let stdin = io.stdin {
        for await chunk in stdin { try await io.stdout?.write(chunk) }
      }
      return 0
    case "big":
      // A pattern, so a test can spot reordering as well as loss.
      var left = Int(arguments.first ?? "0") ?? 0
      var offset = 0
      while left > 0 {
        let count = min(left, 10_000)
        try await io.stdout?.write((0..<count).map { UInt8(truncatingIfNeeded: ($0 + offset) % 251) })
        offset += count
        left -= count
      }
      return 0
    case "resize":
      var wanted = Int(arguments.first ?? "1") ?? 1
      for await size in io.resize {
        try await io.stdout?.write(Array("\(size.width)x\(size.height)\n".utf8))
        wanted -= 1
        if wanted == 0 { break }
      }
      return 0
    case "hang":
      do {
        try await Task.sleep(for: .seconds(600))
      } catch {
        cancelled.withLock { $0.append("hang") }
        throw error
      }
      return 0
    default:
      throw Failure(description: "no such command: \(request.command.first ?? "")")
    }
  }

  func attach(_ request: AttachRequest, io: StreamingIO) async throws {
    if let stdin = io.stdin {
      for await chunk in stdin { try await io.stdout?.write(chunk) }
    }
  }

  func portForward(podSandboxID: String, port: UInt16, stream: PortForwardStream) async throws {
    // Past NIO's default 10 s: with the whole suite starting at once on two
    // cores, event loops can be that late, and a loopback dial that timed
    // out is the likeliest reason one round trip came back empty in a CI
    // rehearsal (the test now prints the error stream if it happens again).
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
      .connectTimeout(.seconds(60))
      .connect(host: "127.0.0.1", port: Int(port)) { channel in
        channel.eventLoop.makeCompletedFuture {
          // Half-closure lets the client's FIN reach the pod as a FIN.
          try NIOAsyncChannel<ByteBuffer, ByteBuffer>(
            wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
        }
      }
    try await channel.executeThenClose { inbound, outbound in
      try await withThrowingTaskGroup(of: Void.self) { group in
        // Client to pod; the client's end half-closes the pod connection.
        group.addTask {
          for await chunk in stream.inbound { try await outbound.write(ByteBuffer(bytes: chunk)) }
          outbound.finish()
        }
        // Pod to client; the pod side closing ends the forward, as in CRI-O.
        for try await buffer in inbound { try await stream.outbound.write(Array(buffer.readableBytesView)) }
        group.cancelAll()
      }
    }
  }
}

/// A TCP echo server on 127.0.0.1, the "pod port" for port-forward tests.
final class EchoServer: Sendable {
  let channel: any Channel
  var port: UInt16 { UInt16(channel.localAddress!.port!) }

  init() async throws {
    channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
      .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(EchoHandler()) }
      }
      .bind(host: "127.0.0.1", port: 0)
      .get()
  }

  func stop() async {
    try? await channel.close()
  }

  private final class EchoHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
      context.writeAndFlush(data, promise: nil)
    }
  }
}

/// A port on 127.0.0.1 that nothing listens on, held (bound, never
/// listening) while the value lives, so that no test running meanwhile can
/// take it: a dial to it is refused. (A port bound and closed again can be
/// taken by another test's server before the dial.)
final class ClosedPort {
  private let fd: Int32
  let port: UInt16

  init() throws {
    let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let held = withUnsafeMutablePointer(to: &address) { pointer in
      pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socketFD, $0, length) == 0 && getsockname(socketFD, $0, &length) == 0 }
    }
    guard socketFD >= 0, held else {
      if socketFD >= 0 { close(socketFD) }
      throw TestRuntime.Failure(description: "cannot hold a port on 127.0.0.1")
    }
    fd = socketFD
    port = UInt16(bigEndian: address.sin_port)
  }

  deinit { close(fd) }
}
