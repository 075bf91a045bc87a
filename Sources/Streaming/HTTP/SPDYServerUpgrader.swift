import NIOCore
import NIOHTTP1
import StreamingWire

/// Upgrades a request the gate accepted for SPDY to SPDY/3.1: answers 101
/// with the negotiated `X-Stream-Protocol-Version`, then hands the channel
/// to the session installer.
struct SPDYServerUpgrader: HTTPServerProtocolUpgrader, Sendable {
  let supportedProtocol = StreamProtocols.spdyUpgrade
  let requiredUpgradeHeaders: [String] = []
  let route: NIOLoopBoundBox<StreamingRoute?>
  let install: @Sendable (Channel, StreamingRoute) throws -> Void

  func buildUpgradeResponse(
    channel: Channel, upgradeRequest: HTTPRequestHead, initialResponseHeaders: HTTPHeaders
  ) -> EventLoopFuture<HTTPHeaders> {
    guard let route = route.value, route.isSPDY else {
      return channel.eventLoop.makeFailedFuture(StreamingUpgradeError.notRouted)
    }
    var headers = initialResponseHeaders
    if !route.protocolName.isEmpty {
      headers.add(name: StreamProtocols.protocolVersionHeader, value: route.protocolName)
    }
    return channel.eventLoop.makeSucceededFuture(headers)
  }

  func upgrade(context: ChannelHandlerContext, upgradeRequest: HTTPRequestHead) -> EventLoopFuture<Void> {
    guard let route = route.value else { return context.eventLoop.makeFailedFuture(StreamingUpgradeError.notRouted) }
    do {
      try install(context.channel, route)
      return context.eventLoop.makeSucceededVoidFuture()
    } catch {
      return context.eventLoop.makeFailedFuture(error)
    }
  }
}

enum StreamingUpgradeError: Error {
  /// The gate did not accept this request for this kind of upgrade.
  case notRouted
}
