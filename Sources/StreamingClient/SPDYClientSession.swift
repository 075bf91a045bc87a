import NIOCore
import StreamingWire

/// The client side of a SPDY/3.1 connection: opens streams (odd ids),
/// collects what the server sends on each, answers pings. It offers a
/// 64 KiB receive window in SETTINGS and returns credit as data arrives, so
/// a server that honours flow control is exercised by it; it sends without
/// watching the server's window, as Go's spdystream does.
final class SPDYClientSession: ChannelInboundHandler {
  typealias InboundIn = SPDYFrame
  typealias OutboundOut = SPDYFrame

  private struct OpenStream {
    let received: AsyncStream<[UInt8]>.Continuation
    let reply: EventLoopPromise<Void>
  }

  private var context: ChannelHandlerContext?
  private var nextStreamID: UInt32 = 1
  private var open: [UInt32: OpenStream] = [:]
  private(set) var goAwayReceived = false

  func handlerAdded(context: ChannelHandlerContext) {
    self.context = context
    context.writeAndFlush(
      wrapOutboundOut(.settings(clearPersisted: false, [SPDYSetting(id: SPDYSetting.initialWindowSizeID, value: 65_536)])),
      promise: nil)
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    switch unwrapInboundIn(data) {
    case .synReply(let id, _, let fin):
      open[id]?.reply.succeed(())
      if fin { finishReceiving(id) }
    case .data(let id, let payload, let fin):
      if payload.readableBytes > 0 {
        open[id]?.received.yield(Array(payload.readableBytesView))
        let credit = UInt32(payload.readableBytes)
        context.write(wrapOutboundOut(.windowUpdate(streamID: id, delta: credit)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.windowUpdate(streamID: 0, delta: credit)), promise: nil)
      }
      if fin { finishReceiving(id) }
    case .rstStream(let id, _):
      open[id]?.reply.fail(StreamingClientError.connectionClosed)
      finishReceiving(id)
    case .ping(let id):
      context.writeAndFlush(wrapOutboundOut(.ping(id: id)), promise: nil)
    case .goAway:
      goAwayReceived = true
    case .headers(let id, _, let fin):
      if fin { finishReceiving(id) }
    case .synStream(let syn):
      // Servers do not push streams in these protocols.
      context.writeAndFlush(wrapOutboundOut(.rstStream(streamID: syn.streamID, status: 3)), promise: nil)
    case .settings, .windowUpdate:
      break
    }
  }

  func channelInactive(context: ChannelHandlerContext) {
    for id in Array(open.keys) {
      open[id]?.reply.fail(StreamingClientError.connectionClosed)
      finishReceiving(id)
    }
    self.context = nil
    context.fireChannelInactive()
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    context.close(promise: nil)
  }

  /// Opens a stream; `reply` completes on the server's SYN_REPLY.
  func openStream(headers: SPDYHeaders, reply: EventLoopPromise<Void>) -> (id: UInt32, received: AsyncStream<[UInt8]>)? {
    guard let context else {
      reply.fail(StreamingClientError.connectionClosed)
      return nil
    }
    let id = nextStreamID
    nextStreamID += 2
    let (received, continuation) = AsyncStream<[UInt8]>.makeStream()
    open[id] = OpenStream(received: continuation, reply: reply)
    context.writeAndFlush(wrapOutboundOut(.synStream(SPDYSynStream(streamID: id, headers: headers))), promise: nil)
    return (id, received)
  }

  func send(_ id: UInt32, _ bytes: [UInt8], fin: Bool, promise: EventLoopPromise<Void>) {
    guard let context else {
      promise.fail(StreamingClientError.connectionClosed)
      return
    }
    let frame = SPDYFrame.data(streamID: id, payload: context.channel.allocator.buffer(bytes: bytes), fin: fin)
    context.writeAndFlush(wrapOutboundOut(frame), promise: promise)
  }

  private func finishReceiving(_ id: UInt32) {
    open[id]?.received.finish()
  }
}

/// A client stream as async code sees it.
struct SPDYClientStream: Sendable {
  let id: UInt32
  let received: AsyncStream<[UInt8]>
  let session: SPDYClientSessionRef

  func send(_ bytes: [UInt8]) async throws {
    try await session.send(id, bytes, fin: false)
  }

  func finish() async throws {
    try await session.send(id, [], fin: true)
  }

  /// Everything the server sends until its FIN.
  func readAll() async -> [UInt8] {
    var bytes: [UInt8] = []
    for await chunk in received { bytes += chunk }
    return bytes
  }
}

/// A way into `SPDYClientSession` from async code.
struct SPDYClientSessionRef: Sendable {
  let session: NIOLoopBound<SPDYClientSession>
  let channel: any Channel

  /// Opens a stream and waits for the server's reply.
  func openStream(_ headers: SPDYHeaders) async throws -> SPDYClientStream {
    let reply = channel.eventLoop.makePromise(of: Void.self)
    let session = session
    let opened = try await channel.eventLoop.submit { () -> SPDYClientStreamParts? in
      session.value.openStream(headers: headers, reply: reply).map { SPDYClientStreamParts(id: $0.id, received: $0.received) }
    }.get()
    try await reply.futureResult.get()
    guard let opened else { throw StreamingClientError.connectionClosed }
    return SPDYClientStream(id: opened.id, received: opened.received, session: self)
  }

  func send(_ id: UInt32, _ bytes: [UInt8], fin: Bool) async throws {
    let promise = channel.eventLoop.makePromise(of: Void.self)
    let session = session
    channel.eventLoop.execute { session.value.send(id, bytes, fin: fin, promise: promise) }
    try await promise.futureResult.get()
  }

  func close() async {
    try? await channel.close()
  }

  static func install(on channel: Channel) throws -> SPDYClientSessionRef {
    let session = SPDYClientSession()
    let sync = channel.pipeline.syncOperations
    try sync.addHandler(ByteToMessageHandler(SPDYFrameDecoder()))
    try sync.addHandler(MessageToByteHandler(SPDYFrameEncoder()))
    try sync.addHandler(session)
    return SPDYClientSessionRef(session: NIOLoopBound(session, eventLoop: channel.eventLoop), channel: channel)
  }
}

private struct SPDYClientStreamParts: Sendable {
  let id: UInt32
  let received: AsyncStream<[UInt8]>
}
