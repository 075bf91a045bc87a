import FuzzSupport
import Logging
import NIOCore
import NIOEmbedded
import NIOWebSocket
import Streaming
import StreamingWire

// A WebSocket client's bytes after the upgrade, through the handlers the
// streaming server installs: NIO's frame decoder and protocol-error handler
// (as NIOWebSocketServerUpgrader adds them), the fragment aggregator and the
// channel connection. The first byte picks the session:
//   bit 0: base64 channel framing (else binary);
//   bit 1: v5 (the close-signal channel);
//   bit 2: the rest is instead a resize stream (channel 4's bytes), fed to
//          TerminalSizeDecoder in the chunks 0xFF bytes mark.
// Otherwise the rest is read in those chunks.
let logger = Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() })

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWebSocket(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  guard size > 0 else { return 0 }
  let mode = data[0]
  let reads = chunks(Array(UnsafeBufferPointer(start: data + 1, count: size - 1)))
  if mode & 4 != 0 {
    var decoder = TerminalSizeDecoder()
    for read in reads {
      guard (try? decoder.feed(read)) != nil else { break }
    }
    return 0
  }
  let channel = EmbeddedChannel()
  do {
    let sync = channel.pipeline.syncOperations
    try sync.addHandler(ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: 1 << 16)))
    try sync.addHandler(WebSocketProtocolErrorHandler())
    _ = try WebSocketChannelHandlers.install(
      on: channel, encoding: mode & 1 != 0 ? .base64 : .binary, acceptsCloseSignal: mode & 2 != 0,
      readableChannels: [0, 2, 4], maxMessage: 1 << 16, logger: logger)
  } catch {
    fatalError("cannot set up the pipeline: \(error)")
  }
  for read in reads where channel.isActive {
    do {
      try channel.writeInbound(channel.allocator.buffer(bytes: read))
    } catch {
      break  // the server closes the connection
    }
    while (try? channel.readOutbound(as: WebSocketFrame.self)) != nil {}
  }
  _ = try? channel.finish()
  // The connection's linger timer holds the channel until it fires.
  channel.embeddedEventLoop.advanceTime(by: .seconds(60))
  return 0
}

@_cdecl("fuzz_websocket_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
  runFuzzer(argc, argv) { data, size in fuzzWebSocket(data!, size) }
}
