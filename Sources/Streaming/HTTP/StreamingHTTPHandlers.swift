import Logging
import NIOCore
import NIOHTTP1
import StreamingWire

/// Answers an HTTP request with a short text body and closes the connection.
private func reject(
  _ rejection: StreamingRejection, version: HTTPVersion, context: ChannelHandlerContext,
  wrap: (HTTPServerResponsePart) -> NIOAny
) {
  var headers = HTTPHeaders()
  let body = Array((rejection.message + "\n").utf8)
  headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
  headers.add(name: "Content-Length", value: String(body.count))
  headers.add(name: "Connection", value: "close")
  for (name, value) in rejection.headers { headers.add(name: name, value: value) }
  context.write(wrap(.head(HTTPResponseHead(version: version, status: rejection.status, headers: headers))), promise: nil)
  context.write(wrap(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
  let channel = context.channel
  context.writeAndFlush(wrap(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
}

/// Sits before `HTTPServerUpgradeHandler`: routes the request head (token,
/// upgrade headers, protocol) and either answers the refusal itself or
/// leaves the decision in `route` for the upgraders and lets the request on.
final class StreamingRequestGate: ChannelInboundHandler, RemovableChannelHandler {
  typealias InboundIn = HTTPServerRequestPart
  typealias InboundOut = HTTPServerRequestPart
  typealias OutboundOut = HTTPServerResponsePart

  private enum State { case awaitingHead, accepted, rejected }

  private let router: StreamingRouter
  private let route: NIOLoopBoundBox<StreamingRoute?>
  private let logger: Logger
  private var state = State.awaitingHead

  init(router: StreamingRouter, route: NIOLoopBoundBox<StreamingRoute?>, logger: Logger) {
    self.router = router
    self.route = route
    self.logger = logger
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    let part = unwrapInboundIn(data)
    switch (state, part) {
    case (.awaitingHead, .head(let head)):
      switch router.route(head) {
      case .success(let decided):
        logger.debug("streaming request accepted", metadata: ["uri": "\(Self.redacted(head.uri))", "protocol": "\(decided.protocolName)"])
        route.value = decided
        state = .accepted
        context.fireChannelRead(data)
      case .failure(let rejection):
        logger.info(
          "streaming request refused",
          metadata: ["uri": "\(Self.redacted(head.uri))", "status": "\(rejection.status.code)", "reason": "\(rejection.message)"])
        state = .rejected
        reject(rejection, version: head.version, context: context, wrap: wrapOutboundOut)
      }
    case (.accepted, _):
      context.fireChannelRead(data)
    case (.awaitingHead, _), (.rejected, _):
      break
    }
  }

  /// Tokens are credentials for a while: keep them out of logs.
  static func redacted(_ uri: String) -> String {
    let path = StreamingRouter.splitURI(uri).path
    guard let slash = path.lastIndex(of: "/") else { return String(path) }
    return path[...slash] + "…"
  }
}

/// The end of the HTTP pipeline: a request the upgraders declined after the
/// gate accepted it (say, a WebSocket request without `Sec-WebSocket-Key`)
/// gets a 400 instead of silence.
final class UnupgradedRequestResponder: ChannelInboundHandler, RemovableChannelHandler {
  typealias InboundIn = HTTPServerRequestPart
  typealias OutboundOut = HTTPServerResponsePart

  private var answered = false

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    guard case .head(let head) = unwrapInboundIn(data), !answered else { return }
    answered = true
    reject(
      StreamingRejection(status: .badRequest, message: "unable to upgrade: invalid upgrade request"),
      version: head.version, context: context, wrap: wrapOutboundOut)
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    // A request that does not parse gets a 400; upgrader refusals also
    // arrive here, just before the request they refused, which gets its own.
    guard error is HTTPParserError, !answered else { return }
    answered = true
    reject(
      StreamingRejection(status: .badRequest, message: "malformed HTTP request"),
      version: .http1_1, context: context, wrap: wrapOutboundOut)
  }
}
