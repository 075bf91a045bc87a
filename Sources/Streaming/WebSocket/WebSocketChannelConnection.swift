import Logging
import NIOCore
import NIOWebSocket
import StreamingWire

/// The server side of one Kubernetes channel WebSocket: whole messages in
/// (a `NIOWebSocketFrameAggregator` sits before it), each routed by its
/// channel byte to the reader registered for that channel; messages out on
/// a channel; pings answered; a close handshake to end. Confined to the
/// event loop; sessions use `WebSocketConnectionRef`.
final class WebSocketChannelConnection: ChannelInboundHandler {
  typealias InboundIn = WebSocketFrame
  typealias OutboundOut = WebSocketFrame

  private let encoding: ChannelEncoding
  /// v5 only: channel 255 carries "the client closed channel N".
  private let acceptsCloseSignal: Bool
  private var readers: [UInt8: AsyncStream<[UInt8]>.Continuation]
  private let logger: Logger
  private let lingerTimeout: TimeAmount
  private var context: ChannelHandlerContext?
  private var sentClose = false

  init(
    encoding: ChannelEncoding, acceptsCloseSignal: Bool, readers: [UInt8: AsyncStream<[UInt8]>.Continuation],
    logger: Logger, lingerTimeout: TimeAmount = .seconds(5)
  ) {
    self.encoding = encoding
    self.acceptsCloseSignal = acceptsCloseSignal
    self.readers = readers
    self.logger = logger
    self.lingerTimeout = lingerTimeout
  }

  func handlerAdded(context: ChannelHandlerContext) {
    self.context = context
  }

  func handlerRemoved(context: ChannelHandlerContext) {
    finishReaders()
    self.context = nil
  }

  /// Made on the event loop, after the handler is added. Not kept in a
  /// property: a handler holding a strong reference to itself is never freed.
  var reference: WebSocketConnectionRef {
    let eventLoop = context!.eventLoop
    return WebSocketConnectionRef(connection: NIOLoopBound(self, eventLoop: eventLoop), eventLoop: eventLoop)
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    let frame = unwrapInboundIn(data)
    switch frame.opcode {
    case .ping:
      let pong = WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)
      context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
    case .connectionClose:
      // The client is done: answer the close (if we have not sent ours) and end.
      finishReaders()
      if sentClose {
        context.close(promise: nil)
      } else {
        sentClose = true
        var code = frame.unmaskedData
        let reply = WebSocketFrame(fin: true, opcode: .connectionClose, data: code.readSlice(length: min(2, code.readableBytes)) ?? ByteBuffer())
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(reply)).whenComplete { _ in channel.close(promise: nil) }
      }
    case .binary, .text:
      receive(Array(frame.unmaskedData.readableBytesView))
    default:
      break
    }
  }

  private func receive(_ bytes: [UInt8]) {
    // kubelet skips empty messages.
    guard !bytes.isEmpty else { return }
    if acceptsCloseSignal, bytes[0] == ChannelMessage.closeSignalChannel {
      guard bytes.count == 2 else {
        logger.debug("malformed close signal; closing")
        close(code: .protocolError)
        return
      }
      readers.removeValue(forKey: bytes[1])?.finish()
      return
    }
    do {
      let message = try encoding.decode(bytes)
      // Data for a channel nobody reads (stdout from the client, a stream
      // the request did not ask for) is dropped, as kubelet does.
      readers[message.channel]?.yield(message.payload)
    } catch {
      logger.debug("undecodable channel message dropped", metadata: ["error": "\(error)"])
    }
  }

  func channelInactive(context: ChannelHandlerContext) {
    finishReaders()
    context.fireChannelInactive()
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    logger.debug("WebSocket connection failed", metadata: ["error": "\(error)"])
    context.close(promise: nil)
  }

  /// Sends `payload` on `channel`; the promise completes when written.
  func send(channel: UInt8, _ payload: [UInt8], promise: EventLoopPromise<Void>?) {
    guard let context, !sentClose else {
      promise?.fail(StreamWriteError.closed)
      return
    }
    let bytes = encoding.encode(ChannelMessage(channel: channel, payload: payload))
    let frame = WebSocketFrame(
      fin: true, opcode: encoding == .binary ? .binary : .text, data: context.channel.allocator.buffer(bytes: bytes))
    context.writeAndFlush(wrapOutboundOut(frame), promise: promise)
  }

  /// Starts the close handshake; the connection ends when the client
  /// answers, or after the linger timeout.
  func close(code: WebSocketErrorCode = .normalClosure) {
    guard let context, !sentClose else { return }
    sentClose = true
    var data = context.channel.allocator.buffer(capacity: 2)
    data.write(webSocketErrorCode: code)
    context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: data)), promise: nil)
    let channel = context.channel
    channel.eventLoop.scheduleTask(in: lingerTimeout) { channel.close(promise: nil) }
  }

  private func finishReaders() {
    for reader in readers.values { reader.finish() }
    readers = [:]
  }
}

extension WebSocketChannelConnection {
  /// Adds what reads a channel WebSocket after NIO's frame decoder: the
  /// aggregator of fragmented messages and the connection, with a reader for
  /// each of `readableChannels`.
  static func install(
    on channel: any Channel, encoding: ChannelEncoding, acceptsCloseSignal: Bool, readableChannels: [UInt8],
    maxMessage: Int, logger: Logger
  ) throws -> (readers: [UInt8: AsyncStream<[UInt8]>], reference: WebSocketConnectionRef) {
    var readers: [UInt8: AsyncStream<[UInt8]>] = [:]
    var sinks: [UInt8: AsyncStream<[UInt8]>.Continuation] = [:]
    for number in readableChannels {
      (readers[number], sinks[number]) = AsyncStream<[UInt8]>.makeStream()
    }
    let connection = WebSocketChannelConnection(
      encoding: encoding, acceptsCloseSignal: acceptsCloseSignal, readers: sinks, logger: logger)
    let sync = channel.pipeline.syncOperations
    try sync.addHandler(
      NIOWebSocketFrameAggregator(
        minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 4096, maxAccumulatedFrameSize: maxMessage))
    try sync.addHandler(connection)
    return (readers, connection.reference)
  }
}

/// The server's inbound WebSocket handling, for the fuzz package (Fuzz/): the
/// handlers a channel WebSocket gets after NIO's frame decoder, as the
/// streaming server installs them; the returned streams get each channel's
/// messages.
public enum WebSocketChannelHandlers {
  public static func install(
    on channel: any Channel, encoding: ChannelEncoding, acceptsCloseSignal: Bool, readableChannels: [UInt8],
    maxMessage: Int, logger: Logger
  ) throws -> [UInt8: AsyncStream<[UInt8]>] {
    try WebSocketChannelConnection.install(
      on: channel, encoding: encoding, acceptsCloseSignal: acceptsCloseSignal, readableChannels: readableChannels,
      maxMessage: maxMessage, logger: logger
    ).readers
  }
}

/// A way into a `WebSocketChannelConnection` from any task.
struct WebSocketConnectionRef: Sendable {
  let connection: NIOLoopBound<WebSocketChannelConnection>
  let eventLoop: any EventLoop

  func send(channel: UInt8, _ payload: [UInt8]) async throws(StreamWriteError) {
    let promise = eventLoop.makePromise(of: Void.self)
    let connection = connection
    eventLoop.execute { connection.value.send(channel: channel, payload, promise: promise) }
    do {
      try await promise.futureResult.get()
    } catch {
      throw .closed
    }
  }

  func close() {
    let connection = connection
    eventLoop.execute { connection.value.close() }
  }

  /// A writer for one channel. WebSocket channels have no per-channel end
  /// from the server, so closing a writer does nothing.
  func writer(channel: UInt8) -> ByteWriter {
    let connection = self
    return ByteWriter(
      send: { bytes throws(StreamWriteError) in try await connection.send(channel: channel, bytes) },
      finish: {})
  }
}
