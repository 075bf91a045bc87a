import NIOCore

/// Closes the connection when `IdleStateHandler` (just before it) reports
/// no reads or writes for the idle timeout.
final class IdleConnectionCloser: ChannelInboundHandler {
  typealias InboundIn = NIOAny

  func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
    if event is IdleStateHandler.IdleStateEvent {
      context.close(promise: nil)
    } else {
      context.fireUserInboundEventTriggered(event)
    }
  }
}
