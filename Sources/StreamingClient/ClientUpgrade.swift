import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// Connects to a streaming URL and upgrades the connection, the way
/// client-go's SPDY round tripper and WebSocket dialer do: one GET with the
/// upgrade headers; 101 means the protocol handlers take over, anything
/// else is an error carrying the status and body.
enum ClientUpgrade {
  /// Upgrades to SPDY/3.1 offering `protocols` in X-Stream-Protocol-Version;
  /// `install` puts the session handlers on the upgraded channel.
  static func spdy<Session: Sendable>(
    url: StreamingURL, protocols: [String], group: any EventLoopGroup,
    install: @escaping @Sendable (Channel, HTTPResponseHead) throws -> Session
  ) async throws -> Session {
    let eventLoop = group.next()
    let upgraded = eventLoop.makePromise(of: Session.self)
    let upgrader = SPDYClientUpgrader(protocols: protocols, upgraded: upgraded, install: install)
    return try await connect(url: url, eventLoop: eventLoop, upgrader: upgrader, extraHeaders: [], upgraded: upgraded)
  }

  /// Upgrades to WebSocket offering `protocols` in Sec-WebSocket-Protocol.
  static func webSocket<Session: Sendable>(
    url: StreamingURL, protocols: [String], group: any EventLoopGroup,
    install: @escaping @Sendable (Channel, HTTPResponseHead) throws -> Session
  ) async throws -> Session {
    let eventLoop = group.next()
    let upgraded = eventLoop.makePromise(of: Session.self)
    let upgrader = NIOWebSocketClientUpgrader(maxFrameSize: 1 << 20) { channel, response in
      channel.eventLoop.makeCompletedFuture {
        let session = try install(channel, response)
        upgraded.succeed(session)
      }
    }
    let headers = protocols.isEmpty ? [] : [("Sec-WebSocket-Protocol", protocols.joined(separator: ", "))]
    return try await connect(url: url, eventLoop: eventLoop, upgrader: upgrader, extraHeaders: headers, upgraded: upgraded)
  }

  private static let refusalCatcherName = "streaming-client-refusal"

  private static func connect<Session: Sendable>(
    url: StreamingURL, eventLoop: any EventLoop, upgrader: any NIOHTTPClientProtocolUpgrader & Sendable,
    extraHeaders: [(String, String)], upgraded: EventLoopPromise<Session>
  ) async throws -> Session {
    let channel: any Channel
    do {
      channel = try await ClientBootstrap(group: eventLoop)
        .channelOption(.socketOption(.tcp_nodelay), value: 1)
        .channelInitializer { channel in
          channel.eventLoop.makeCompletedFuture {
            let sync = channel.pipeline.syncOperations
            try sync.addHTTPClientHandlers(
              leftOverBytesStrategy: .forwardBytes,
              withClientUpgrade: (
                upgraders: [upgrader],
                completionHandler: { context in
                  context.pipeline.syncOperations.removeHandler(name: refusalCatcherName, promise: nil)
                }
              ))
            try sync.addHandler(UpgradeRefusalCatcher(upgraded: upgraded), name: refusalCatcherName)
          }
        }
        .connect(host: url.host, port: url.port)
        .get()
    } catch {
      upgraded.fail(error)
      throw error
    }
    var headers = HTTPHeaders([("Host", url.authority)])
    for (name, value) in extraHeaders { headers.add(name: name, value: value) }
    let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: url.target, headers: headers)
    channel.write(HTTPClientRequestPart.head(head), promise: nil)
    channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
    do {
      return try await upgraded.futureResult.get()
    } catch {
      channel.close(promise: nil)
      throw error
    }
  }
}

/// Our SPDY/3.1 upgrade: adds the protocol versions we offer, accepts the
/// 101, installs the session.
struct SPDYClientUpgrader<Session: Sendable>: NIOHTTPClientProtocolUpgrader, Sendable {
  let supportedProtocol = "SPDY/3.1"
  let requiredUpgradeHeaders: [String] = []
  let protocols: [String]
  let upgraded: EventLoopPromise<Session>
  let install: @Sendable (Channel, HTTPResponseHead) throws -> Session

  func addCustom(upgradeRequestHeaders: inout HTTPHeaders) {
    for name in protocols { upgradeRequestHeaders.add(name: "X-Stream-Protocol-Version", value: name) }
  }

  func shouldAllowUpgrade(upgradeResponse: HTTPResponseHead) -> Bool { true }

  func upgrade(context: ChannelHandlerContext, upgradeResponse: HTTPResponseHead) -> EventLoopFuture<Void> {
    do {
      upgraded.succeed(try install(context.channel, upgradeResponse))
      return context.eventLoop.makeSucceededVoidFuture()
    } catch {
      upgraded.fail(error)
      return context.eventLoop.makeFailedFuture(error)
    }
  }
}

/// Sees the response when the server did not upgrade, and fails the
/// caller's wait with its status and body.
final class UpgradeRefusalCatcher<Session: Sendable>: ChannelInboundHandler, RemovableChannelHandler {
  typealias InboundIn = HTTPClientResponsePart

  private let upgraded: EventLoopPromise<Session>
  private var status = 0
  private var body: [UInt8] = []
  private var done = false

  init(upgraded: EventLoopPromise<Session>) {
    self.upgraded = upgraded
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    switch unwrapInboundIn(data) {
    case .head(let head): status = Int(head.status.code)
    case .body(let buffer): body += buffer.readableBytesView
    case .end:
      finish(.upgradeRejected(status: status, body: String(decoding: body, as: UTF8.self)))
      context.close(promise: nil)
    }
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    finish(.protocolViolation("\(error)"))
    context.close(promise: nil)
  }

  func channelInactive(context: ChannelHandlerContext) {
    finish(.connectionClosed)
  }

  private func finish(_ error: StreamingClientError) {
    guard !done else { return }
    done = true
    upgraded.fail(error)
  }
}
