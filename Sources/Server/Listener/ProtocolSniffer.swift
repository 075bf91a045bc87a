import NIOCore
import Support

/// Sits at the head of every accepted connection and decides, from the first
/// bytes, whether the client speaks HTTP/2 (gRPC: the connection preface) or
/// HTTP/1 (CRI-O's inspection API: `GET /info`, ...).
///
/// Until it knows, it holds back what the gRPC pipeline behind it writes (the
/// server's SETTINGS frame would be garbage to an HTTP/1 client). HTTP/2
/// connections get the held writes and bytes replayed and the sniffer removes
/// itself; HTTP/1 connections are answered here and closed, and everything the
/// gRPC pipeline writes to them is dropped. What the bytes say is decided by
/// `ConnectionSniffing`.
///
/// The replay hands the client's first bytes (its preface and SETTINGS) to
/// the HTTP/2 handler, which answers at once with a SETTINGS ACK. That write
/// comes back through this handler while it is still in the pipeline, so from
/// the replay on everything passes straight through: a write held then would
/// be lost when the handler leaves. A lost ACK is not harmless: NIOHTTP2
/// applies the client's SETTINGS_MAX_FRAME_SIZE (grpcio announces 4 MiB) on
/// receipt, while a gRPC C-core client keeps enforcing 16 KiB until its
/// SETTINGS are acknowledged, and drops the connection at the first larger
/// DATA frame.
final class ProtocolSniffer: ChannelDuplexHandler, RemovableChannelHandler {
  typealias InboundIn = ByteBuffer
  typealias InboundOut = ByteBuffer
  typealias OutboundIn = IOData
  typealias OutboundOut = IOData

  /// `http2`: replaying and about to leave the pipeline; everything passes through.
  private enum State { case sniffing, http2, http1, http1Answered }

  private var state = State.sniffing
  private var received: ByteBuffer?
  private var heldWrites: [(IOData, EventLoopPromise<Void>?)] = []
  private var heldFlush = false
  private let responder: HTTP1Responder

  init(responder: @escaping HTTP1Responder) {
    self.responder = responder
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    var bytes = unwrapInboundIn(data)
    if received == nil { received = bytes } else { received!.writeBuffer(&bytes) }
    switch state {
    case .sniffing:
      sniff(context: context)
    case .http2:
      context.fireChannelRead(wrapInboundOut(received.take()!))
    case .http1:
      answerWhenComplete(context: context)
    case .http1Answered:
      break
    }
  }

  func channelReadComplete(context: ChannelHandlerContext) {
    // The gRPC pipeline sees reads only once the connection is known to be HTTP/2.
    if state == .http2 { context.fireChannelReadComplete() }
  }

  func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
    switch state {
    case .sniffing:
      heldWrites.append((unwrapOutboundIn(data), promise))
    case .http2:
      context.write(data, promise: promise)
    case .http1, .http1Answered:
      promise?.succeed()
    }
  }

  func flush(context: ChannelHandlerContext) {
    switch state {
    case .sniffing: heldFlush = true
    case .http2: context.flush()
    case .http1, .http1Answered: break
    }
  }

  /// Writes still held when the connection goes away (closed while sniffing) fail.
  func handlerRemoved(context: ChannelHandlerContext) {
    let writes = heldWrites
    heldWrites = []
    for (_, promise) in writes { promise?.fail(ChannelError.ioOnClosedChannel) }
  }

  private func sniff(context: ChannelHandlerContext) {
    guard let buffer = received else { return }
    switch ConnectionSniffing.classify(buffer.readableBytesView) {
    case .undecided:
      return  // a prefix of the preface: wait for more bytes
    case .http2:
      becomeHTTP2(context: context)
    case .http1:
      state = .http1
      for (_, promise) in heldWrites { promise?.succeed() }
      heldWrites = []
      answerWhenComplete(context: context)
    }
  }

  private func becomeHTTP2(context: ChannelHandlerContext) {
    // Pass-through first: the replay below makes the HTTP/2 handler write
    // (its SETTINGS ACK), and those writes must follow the held ones out.
    state = .http2
    let writes = heldWrites
    heldWrites = []
    for (data, promise) in writes {
      context.write(wrapOutboundOut(data), promise: promise)
    }
    if heldFlush { context.flush() }
    if let buffer = received.take() {
      context.fireChannelRead(wrapInboundOut(buffer))
      context.fireChannelReadComplete()
    }
    context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
  }

  private func answerWhenComplete(context: ChannelHandlerContext) {
    guard let buffer = received else { return }
    let answering = HTTP1Answering.answer(buffer.readableBytesView, on: context.eventLoop, responder: responder) { response in
      self.send(response, context: context)
    }
    if answering { state = .http1Answered }
  }

  private func send(_ response: HTTP1Response, context: ChannelHandlerContext) {
    state = .http1Answered
    let bytes = context.channel.allocator.buffer(bytes: response.serialized())
    context.writeAndFlush(wrapOutboundOut(.byteBuffer(bytes))).assumeIsolated().whenComplete { _ in
      context.close(promise: nil)
    }
  }
}

/// Answers the HTTP/1 request whose head has arrived (the inspection API on
/// the CRI socket, the metrics endpoint): a bad head at once, a request
/// once its responder has answered.
enum HTTP1Answering {
  /// False while the head is incomplete; true once the answer is on its
  /// way to `send`, which runs on the event loop.
  static func answer(
    _ bytes: some Collection<UInt8>, on eventLoop: any EventLoop, responder: @escaping HTTP1Responder,
    send: @escaping (HTTP1Response) -> Void
  ) -> Bool {
    switch ConnectionSniffing.parseHead(bytes) {
    case .incomplete:
      return false
    case .tooLarge:
      send(HTTP1Response(status: 431, reason: "Request Header Fields Too Large", body: "request head too large\n"))
    case .malformed:
      send(HTTP1Response(status: 400, reason: "Bad Request", body: "malformed request line\n"))
    case .request(let request):
      let promise = eventLoop.makePromise(of: HTTP1Response.self)
      promise.completeWithTask { await responder(request) }
      promise.futureResult.assumeIsolated().whenSuccess(send)
    }
    return true
  }
}
