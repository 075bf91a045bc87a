import NIOCore
import NIOHTTP1
import NIOPosix
import StreamingWire

/// Which transport a streaming client speaks.
public enum StreamingTransport: Sendable {
  /// SPDY/3.1, as kubectl and crictl have long used.
  case spdy
  /// WebSocket channels, as newer kubectl uses.
  case webSocket
}

/// A terminal size to send on the resize stream.
public struct ClientTerminalSize: Sendable, Equatable {
  public var width: UInt16
  public var height: UInt16

  public init(width: UInt16, height: UInt16) {
    self.width = width
    self.height = height
  }

  /// client-go's json.Encoder output: field names as Go's struct has them, newline-ended.
  var json: [UInt8] { Array("{\"Width\":\(width),\"Height\":\(height)}\n".utf8) }
}

/// The client side of the streaming protocols (exec, attach, port-forward),
/// written from the Kubernetes protocol and client-go's behaviour, for tests
/// and benchmarks of the daemon's streaming server.
public enum StreamingClient {
  public static let defaultSPDYProtocols = [
    StreamProtocols.RemoteCommand.v4, StreamProtocols.RemoteCommand.v3, StreamProtocols.RemoteCommand.v2,
    StreamProtocols.RemoteCommand.v1,
  ]
  public static let defaultWebSocketProtocols = [
    StreamProtocols.RemoteCommand.v5, StreamProtocols.RemoteCommand.v4, StreamProtocols.RemoteCommand.v1,
  ]

  /// Runs an exec (or attach) session to completion and returns what it
  /// produced. The stream flags must match the request the URL was made for
  /// (the server waits for exactly those streams over SPDY).
  ///
  /// - Parameters:
  ///   - stdin: bytes to send; the end of the sequence closes stdin (over
  ///     WebSocket only v5 can say so). nil: no stdin stream.
  ///   - resize: terminal sizes to send while the session runs (tty only).
  ///   - protocols: the protocol versions to offer, most preferred first.
  public static func exec(
    url: String, transport: StreamingTransport = .spdy, stdin: AsyncStream<[UInt8]>? = nil, stdout: Bool = true,
    stderr: Bool = true, tty: Bool = false, resize: AsyncStream<ClientTerminalSize>? = nil, protocols: [String]? = nil,
    group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
  ) async throws -> ExecResult {
    let parsed = try StreamingURL(url)
    switch transport {
    case .spdy:
      let options = RemoteCommandOptions(stdin: stdin, stdout: stdout, stderr: stderr && !tty, tty: tty, resize: resize)
      return try await SPDYRemoteCommandClient.run(
        url: parsed, options: options, protocols: protocols ?? defaultSPDYProtocols, group: group)
    case .webSocket:
      let options = RemoteCommandOptions(stdin: stdin, stdout: stdout, stderr: stderr && !tty, tty: tty, resize: resize)
      return try await WebSocketRemoteCommandClient.run(
        url: parsed, options: options, protocols: protocols ?? defaultWebSocketProtocols, group: group)
    }
  }

  /// Opens one forwarded connection to `port` in the pod. Over WebSocket the
  /// URL's request (or its `?port=` query) fixes the ports; `port` must be
  /// the first of them.
  public static func portForward(
    url: String, port: UInt16, transport: StreamingTransport = .spdy,
    group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
  ) async throws -> PortForwardConnection {
    let parsed = try StreamingURL(url)
    switch transport {
    case .spdy: return try await PortForwardConnection.spdy(url: parsed, port: port, group: group)
    case .webSocket: return try await PortForwardConnection.webSocket(url: parsed, port: port, group: group)
    }
  }
}

struct RemoteCommandOptions: Sendable {
  var stdin: AsyncStream<[UInt8]>?
  var stdout: Bool
  var stderr: Bool
  var tty: Bool
  var resize: AsyncStream<ClientTerminalSize>?
}
