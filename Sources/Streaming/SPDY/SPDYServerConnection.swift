import Logging
import NIOCore
import StreamingWire

/// What a SPDY connection tells the session running on it.
enum SPDYSessionEvent: Sendable {
  /// The client opened a stream and we replied.
  case opened(SPDYServerStream)
  /// A timer the session set went off (stream creation timeouts).
  case timer(String)
}

/// The server side of one SPDY/3.1 connection: accepts client streams,
/// replies to them, delivers their data and sends ours within the peer's
/// flow-control windows. Confined to the channel's event loop; sessions
/// reach it through `SPDYConnectionRef`.
///
/// Flow control: SPDY/3.1 starts every stream and the session with a 64 KiB
/// send window. Go's spdystream (kubectl, crictl, kubelet's clients) says
/// "SPDY/3.1" but never sends WINDOW_UPDATE and ignores ours, so holding to
/// the window would stall any exec printing more than 64 KiB. Windows are
/// therefore enforced only once the peer shows it does flow control (sends
/// SETTINGS with an initial window or any WINDOW_UPDATE); we always send
/// WINDOW_UPDATE as our consumers take data, which is harmless to peers
/// that ignore it.
final class SPDYServerConnection: ChannelInboundHandler {
  typealias InboundIn = SPDYFrame
  typealias OutboundOut = SPDYFrame

  static let defaultWindow = 65_536
  /// Largest DATA frame we send; Go's io.Copy writes 32 KiB at a time too.
  static let maxDataFramePayload = 32 * 1024

  private struct PendingWrite {
    var bytes: ByteBuffer
    var fin: Bool
    var promise: EventLoopPromise<Void>?
  }

  private struct StreamState {
    let inbound: AsyncStream<[UInt8]>.Continuation
    var sendWindow: Int
    var pending: CircularBuffer<PendingWrite> = []
    /// We sent (or queued) FIN: no more writes.
    var localClosed = false
    /// The peer sent FIN: no more data will come.
    var remoteClosed = false
  }

  /// Decides whether to accept a new stream by its headers; a refused
  /// stream gets RST_STREAM and no reply (kubelet's port-forward checks).
  private let acceptStream: (SPDYHeaders) -> Bool
  private let events: AsyncStream<SPDYSessionEvent>.Continuation
  private let logger: Logger
  private let lingerTimeout: TimeAmount

  private var context: ChannelHandlerContext?
  private var streams: [UInt32: StreamState] = [:]
  private var lastPeerStreamID: UInt32 = 0
  private var peerDoesFlowControl = false
  private var initialSendWindow = SPDYServerConnection.defaultWindow
  private var sessionSendWindow = SPDYServerConnection.defaultWindow
  private var shuttingDown = false

  init(
    events: AsyncStream<SPDYSessionEvent>.Continuation, logger: Logger, lingerTimeout: TimeAmount = .seconds(5),
    acceptStream: @escaping (SPDYHeaders) -> Bool = { _ in true }
  ) {
    self.events = events
    self.logger = logger
    self.lingerTimeout = lingerTimeout
    self.acceptStream = acceptStream
  }

  func handlerAdded(context: ChannelHandlerContext) {
    self.context = context
  }

  func handlerRemoved(context: ChannelHandlerContext) {
    endEverything()
    self.context = nil
  }

  /// Made on the event loop, after the handler is added. Not kept in a
  /// property: a handler holding a strong reference to itself is never freed.
  var reference: SPDYConnectionRef {
    let eventLoop = context!.eventLoop
    return SPDYConnectionRef(connection: NIOLoopBound(self, eventLoop: eventLoop), eventLoop: eventLoop)
  }

  // MARK: Inbound frames

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    switch unwrapInboundIn(data) {
    case .synStream(let syn): openStream(syn)
    case .data(let id, let payload, let fin): receiveData(id, payload, fin: fin)
    case .headers(let id, _, let fin): if fin { receiveData(id, ByteBuffer(), fin: true) }
    case .rstStream(let id, let status):
      logger.debug("client reset stream", metadata: ["stream": "\(id)", "status": "\(status)"])
      dropStream(id)
    case .settings(_, let settings): applySettings(settings)
    case .windowUpdate(let id, let delta): windowUpdate(id, delta: Int(delta))
    case .ping(let id):
      // Odd ids are the client's; even ones would answer pings we never send.
      if id & 1 == 1 { write(.ping(id: id), flush: true) }
    case .goAway:
      // The client opens no more streams; the ones open carry on.
      logger.debug("client sent GOAWAY")
    case .synReply:
      protocolError("SYN_REPLY for a stream the server never opened")
    }
  }

  func channelInactive(context: ChannelHandlerContext) {
    endEverything()
    context.fireChannelInactive()
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    if let error = error as? SPDYProtocolError {
      protocolError("\(error)")
    } else {
      logger.debug("SPDY connection failed", metadata: ["error": "\(error)"])
      context.close(promise: nil)
    }
  }

  private func openStream(_ syn: SPDYSynStream) {
    let id = syn.streamID
    guard id & 1 == 1, id > lastPeerStreamID else {
      protocolError("stream id \(id) is not a new client stream id")
      return
    }
    lastPeerStreamID = id
    guard !shuttingDown, acceptStream(syn.headers) else {
      write(.rstStream(streamID: id, status: SPDYStreamStatus.refusedStream.rawValue), flush: true)
      return
    }
    let (chunks, inbound) = AsyncStream<[UInt8]>.makeStream()
    var state = StreamState(inbound: inbound, sendWindow: initialSendWindow)
    state.localClosed = syn.unidirectional
    streams[id] = state
    write(.synReply(streamID: id, headers: SPDYHeaders(), fin: false), flush: true)
    let connection = reference
    let stream = SPDYServerStream(
      id: id, headers: syn.headers,
      inbound: ByteStream(chunks, consumed: { count in connection.acknowledge(stream: id, bytes: count) }),
      connection: connection)
    events.yield(.opened(stream))
    if syn.fin { receiveData(id, ByteBuffer(), fin: true) }
  }

  private func receiveData(_ id: UInt32, _ payload: ByteBuffer, fin: Bool) {
    guard var state = streams[id] else {
      // Data racing our own close or reset is normal; anything else is not.
      if id > lastPeerStreamID || id & 1 == 0 {
        write(.rstStream(streamID: id, status: SPDYStreamStatus.invalidStream.rawValue), flush: true)
      }
      return
    }
    guard !state.remoteClosed else {
      write(.rstStream(streamID: id, status: SPDYStreamStatus.streamAlreadyClosed.rawValue), flush: true)
      dropStream(id)
      return
    }
    if payload.readableBytes > 0 {
      state.inbound.yield(Array(payload.readableBytesView))
    }
    if fin {
      state.remoteClosed = true
      state.inbound.finish()
    }
    streams[id] = state
    removeIfFinished(id)
  }

  private func applySettings(_ settings: [SPDYSetting]) {
    for setting in settings where setting.id == SPDYSetting.initialWindowSizeID {
      let delta = Int(setting.value) - initialSendWindow
      initialSendWindow = Int(setting.value)
      peerDoesFlowControl = true
      for id in streams.keys { streams[id]!.sendWindow += delta }
      for id in Array(streams.keys) { drain(id) }
    }
  }

  private func windowUpdate(_ id: UInt32, delta: Int) {
    peerDoesFlowControl = true
    if id == 0 {
      sessionSendWindow += delta
      for id in Array(streams.keys) { drain(id) }
    } else if streams[id] != nil {
      streams[id]!.sendWindow += delta
      drain(id)
    }
  }

  // MARK: Outbound data

  /// Queues `bytes` (and FIN) on stream `id`; `promise` completes when the
  /// last byte is written to the socket, or fails if the stream is gone.
  func enqueue(_ id: UInt32, _ bytes: ByteBuffer, fin: Bool, promise: EventLoopPromise<Void>?) {
    guard context != nil, var state = streams[id], !state.localClosed else {
      promise?.fail(StreamWriteError.closed)
      return
    }
    state.localClosed = fin
    state.pending.append(PendingWrite(bytes: bytes, fin: fin, promise: promise))
    streams[id] = state
    drain(id)
  }

  private func drain(_ id: UInt32) {
    guard context != nil else { return }
    var wrote = false
    while var state = streams[id], var next = state.pending.first {
      let allowance = peerDoesFlowControl ? min(state.sendWindow, sessionSendWindow) : Int.max
      let count = max(0, min(next.bytes.readableBytes, allowance, Self.maxDataFramePayload))
      // An empty write still goes out when it carries FIN; FIN needs no window.
      guard count > 0 || next.bytes.readableBytes == 0 else { break }
      let chunk = next.bytes.readSlice(length: count)!
      let isLast = next.bytes.readableBytes == 0
      if count > 0 || next.fin {
        write(.data(streamID: id, payload: chunk, fin: isLast && next.fin), flush: false, promise: isLast ? next.promise : nil)
        wrote = true
      } else {
        next.promise?.succeed(())
      }
      if peerDoesFlowControl {
        state.sendWindow -= count
        sessionSendWindow -= count
      }
      if isLast { state.pending.removeFirst() } else { state.pending[state.pending.startIndex] = next }
      streams[id] = state
    }
    if wrote { context?.flush() }
    removeIfFinished(id)
  }

  /// Sends WINDOW_UPDATE for data a consumer took off a stream.
  func acknowledge(_ id: UInt32, bytes: Int) {
    guard bytes > 0, context != nil, !shuttingDown else { return }
    if let state = streams[id], !state.remoteClosed {
      write(.windowUpdate(streamID: id, delta: UInt32(bytes)), flush: false)
    }
    write(.windowUpdate(streamID: 0, delta: UInt32(bytes)), flush: true)
  }

  /// Ends a stream at once (RST_STREAM CANCEL), dropping queued data.
  func reset(_ id: UInt32) {
    guard streams[id] != nil else { return }
    write(.rstStream(streamID: id, status: SPDYStreamStatus.cancel.rawValue), flush: true)
    dropStream(id)
  }

  /// Ends the connection politely: GOAWAY, then half-close so queued bytes
  /// reach the client before its kernel sees the end; the client closes its
  /// side in answer, or the linger timeout closes ours.
  func shutdown() {
    guard let context, !shuttingDown else { return }
    shuttingDown = true
    write(.goAway(lastGoodStreamID: lastPeerStreamID, status: SPDYSessionStatus.ok.rawValue), flush: true)
    let channel = context.channel
    context.close(mode: .output).whenFailure { _ in channel.close(promise: nil) }
    channel.eventLoop.scheduleTask(in: lingerTimeout) { channel.close(promise: nil) }
  }

  // MARK: Helpers

  private func write(_ frame: SPDYFrame, flush: Bool, promise: EventLoopPromise<Void>? = nil) {
    guard let context else {
      promise?.fail(StreamWriteError.closed)
      return
    }
    context.write(wrapOutboundOut(frame), promise: promise)
    if flush { context.flush() }
  }

  private func removeIfFinished(_ id: UInt32) {
    if let state = streams[id], state.localClosed, state.remoteClosed, state.pending.isEmpty {
      streams[id] = nil
    }
  }

  private func dropStream(_ id: UInt32) {
    guard let state = streams.removeValue(forKey: id) else { return }
    state.inbound.finish()
    for write in state.pending { write.promise?.fail(StreamWriteError.closed) }
  }

  private func protocolError(_ reason: String) {
    logger.debug("SPDY protocol error; closing", metadata: ["reason": "\(reason)"])
    guard let context else { return }
    shuttingDown = true
    write(.goAway(lastGoodStreamID: lastPeerStreamID, status: SPDYSessionStatus.protocolError.rawValue), flush: true)
    context.close(promise: nil)
  }

  private func endEverything() {
    for id in Array(streams.keys) { dropStream(id) }
    events.finish()
  }
}
