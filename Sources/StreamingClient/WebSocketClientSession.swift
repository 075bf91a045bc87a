import NIOCore
import NIOWebSocket
import StreamingWire

/// The client side of a Kubernetes channel WebSocket: splits incoming
/// messages by channel, sends masked messages, answers pings and the close
/// handshake.
final class WebSocketClientSession: ChannelInboundHandler {
  typealias InboundIn = WebSocketFrame
  typealias OutboundOut = WebSocketFrame

  private let encoding: ChannelEncoding
  private var receivers: [UInt8: AsyncStream<[UInt8]>.Continuation]
  private var context: ChannelHandlerContext?

  init(encoding: ChannelEncoding, receivers: [UInt8: AsyncStream<[UInt8]>.Continuation]) {
    self.encoding = encoding
    self.receivers = receivers
  }

  func handlerAdded(context: ChannelHandlerContext) {
    self.context = context
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    let frame = unwrapInboundIn(data)
    switch frame.opcode {
    case .binary, .text:
      let bytes = Array(frame.unmaskedData.readableBytesView)
      if let message = try? encoding.decode(bytes) {
        receivers[message.channel]?.yield(message.payload)
      }
    case .ping:
      send(frame: WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData), promise: nil)
    case .connectionClose:
      finishAll()
      let channel = context.channel
      let reply = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: ByteBuffer())
      context.writeAndFlush(wrapOutboundOut(reply)).whenComplete { _ in channel.close(promise: nil) }
      self.context = nil
    default:
      break
    }
  }

  func channelInactive(context: ChannelHandlerContext) {
    finishAll()
    self.context = nil
    context.fireChannelInactive()
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    context.close(promise: nil)
  }

  func send(_ message: ChannelMessage, promise: EventLoopPromise<Void>?) {
    guard let context else {
      promise?.fail(StreamingClientError.connectionClosed)
      return
    }
    let bytes = encoding.encode(message)
    // The v5 close signal is binary even where data would be base64 text.
    let opcode: WebSocketOpcode = encoding == .binary || message.closedChannel != nil ? .binary : .text
    send(frame: WebSocketFrame(fin: true, opcode: opcode, data: context.channel.allocator.buffer(bytes: bytes)), promise: promise)
  }

  private func send(frame: WebSocketFrame, promise: EventLoopPromise<Void>?) {
    guard let context else {
      promise?.fail(StreamingClientError.connectionClosed)
      return
    }
    var frame = frame
    // Clients mask every frame (RFC 6455 section 5.3); the encoder applies it.
    frame.maskKey = .random()
    context.writeAndFlush(wrapOutboundOut(frame), promise: promise)
  }

  private func finishAll() {
    for receiver in receivers.values { receiver.finish() }
    receivers = [:]
  }
}

/// A way into `WebSocketClientSession` from async code.
struct WebSocketClientSessionRef: Sendable {
  let session: NIOLoopBound<WebSocketClientSession>
  let channel: any Channel
  /// What the server sends on each channel, until the connection ends.
  let received: [UInt8: AsyncStream<[UInt8]>]
  /// The subprotocol the server chose.
  let subprotocol: String

  func send(channel number: UInt8, _ bytes: [UInt8]) async throws {
    try await send(ChannelMessage(channel: number, payload: bytes))
  }

  func send(_ message: ChannelMessage) async throws {
    let promise = channel.eventLoop.makePromise(of: Void.self)
    let session = session
    channel.eventLoop.execute { session.value.send(message, promise: promise) }
    try await promise.futureResult.get()
  }

  func close() async {
    try? await channel.close()
  }

  /// Installs the session for channels `0..<channelCount`.
  static func install(on channel: Channel, subprotocol: String, channelCount: Int) throws -> WebSocketClientSessionRef {
    var received: [UInt8: AsyncStream<[UInt8]>] = [:]
    var receivers: [UInt8: AsyncStream<[UInt8]>.Continuation] = [:]
    for number in 0..<UInt8(channelCount) {
      (received[number], receivers[number]) = AsyncStream<[UInt8]>.makeStream()
    }
    let encoding: ChannelEncoding = subprotocol.contains("base64") ? .base64 : .binary
    let session = WebSocketClientSession(encoding: encoding, receivers: receivers)
    let sync = channel.pipeline.syncOperations
    try sync.addHandler(
      NIOWebSocketFrameAggregator(minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 4096, maxAccumulatedFrameSize: 1 << 24))
    try sync.addHandler(session)
    return WebSocketClientSessionRef(
      session: NIOLoopBound(session, eventLoop: channel.eventLoop), channel: channel, received: received,
      subprotocol: subprotocol)
  }
}
