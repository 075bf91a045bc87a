import GRPCNIOTransportHTTP2Posix
import NIOCore
import NIOHPACK
import NIOHTTP2

/// Answers a request message larger than the receive limit
/// (`grpc_max_recv_msg_size`) with RESOURCE_EXHAUSTED, as gRPC servers do.
///
/// grpc-swift-nio-transport enforces the same limit, but it turns the
/// overflow into a decoding failure and resets the stream with CANCEL, which
/// clients report as CANCELLED. This handler sits first in each HTTP/2
/// stream's pipeline (ahead of grpc-swift's stream handler), follows the
/// gRPC message prefixes as DATA frames pass, and at the first prefix that
/// announces more than the limit answers the call itself: trailers with
/// grpc-status 8, then RST_STREAM(NO_ERROR), which tells the client to stop
/// sending (gRPC over HTTP/2, RFC 9113 §8.1). Nothing of the message is kept.
final class RequestSizeLimit: ChannelDuplexHandler, RemovableChannelHandler {
  typealias InboundIn = HTTP2Frame.FramePayload
  typealias InboundOut = HTTP2Frame.FramePayload
  typealias OutboundIn = HTTP2Frame.FramePayload
  typealias OutboundOut = HTTP2Frame.FramePayload

  private let limit: Int
  private var prefixes = GRPCMessagePrefixes()
  /// Whether response headers went out (then the answer is trailers alone).
  private var responseStarted = false
  private var rejected = false

  init(limit: Int) {
    self.limit = limit
  }

  /// The transport configuration that puts a `RequestSizeLimit` first in
  /// every HTTP/2 stream. The per-stream callback is the one place where a
  /// handler can go ahead of grpc-swift's own; it runs before the stream
  /// sees its first frame.
  static func callbacks(limit: Int) -> HTTP2ServerTransport.Config.ChannelDebuggingCallbacks {
    .init(
      onBindTCPListener: nil, onAcceptTCPConnection: nil,
      onAcceptHTTP2Stream: { stream in
        stream.eventLoop.makeCompletedFuture {
          try stream.pipeline.syncOperations.addHandler(RequestSizeLimit(limit: limit), position: .first)
        }
      })
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    // Once answered, the rest of the request is dropped, not buffered.
    guard !rejected else { return }
    if case .data(let content) = unwrapInboundIn(data), case .byteBuffer(let bytes) = content.data,
      let length = prefixes.firstLength(exceeding: limit, in: bytes)
    {
      reject(context: context, length: length)
      return
    }
    context.fireChannelRead(data)
  }

  func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
    // The call's own answer would come after ours, on a closed stream.
    guard !rejected else {
      promise?.fail(ChannelError.ioOnClosedChannel)
      return
    }
    if case .headers = unwrapOutboundIn(data) { responseStarted = true }
    context.write(data, promise: promise)
  }

  private func reject(context: ChannelHandlerContext, length: Int) {
    rejected = true
    var trailers: HPACKHeaders = responseStarted ? [:] : [":status": "200", "content-type": "application/grpc"]
    trailers.add(name: "grpc-status", value: "8")  // RESOURCE_EXHAUSTED
    // ASCII without '%': nothing to percent-encode.
    trailers.add(
      name: "grpc-message",
      value: "request message of \(length) bytes is larger than the receive limit of \(limit) bytes (grpc_max_recv_msg_size)")
    context.write(wrapOutboundOut(.headers(.init(headers: trailers, endStream: true))), promise: nil)
    context.writeAndFlush(wrapOutboundOut(.rstStream(.noError)), promise: nil)
  }
}

/// Follows gRPC's length-prefixed message framing (a flag byte and a 4-byte
/// big-endian length before each message) across the chunks a request
/// arrives in, keeping only the position.
struct GRPCMessagePrefixes {
  private var prefix: [UInt8] = []
  /// Bytes of the current message still to come.
  private var remaining = 0

  /// Reads on through `bytes`; the announced length of the first message in
  /// them longer than `limit`, or nil.
  mutating func firstLength(exceeding limit: Int, in bytes: ByteBuffer) -> Int? {
    var bytes = bytes
    while bytes.readableBytes > 0 {
      if remaining > 0 {
        let skipped = min(remaining, bytes.readableBytes)
        bytes.moveReaderIndex(forwardBy: skipped)
        remaining -= skipped
        continue
      }
      prefix.append(bytes.readInteger(as: UInt8.self)!)
      guard prefix.count == 5 else { continue }
      let length = prefix[1...].reduce(0) { $0 << 8 | Int($1) }
      prefix.removeAll(keepingCapacity: true)
      if length > limit { return length }
      remaining = length
    }
    return nil
  }
}
