import Logging
import NIOCore
import NIOEmbedded
import Testing

@testable import Streaming
@testable import StreamingWire

/// Found by Fuzz/fuzz-websocket (LeakSanitizer, on every seed input): the
/// WebSocket connection handler, and the SPDY one built the same way, kept a
/// NIOLoopBound of themselves in a property, so neither was ever freed and
/// every streaming connection leaked its handler and what it holds.
@Suite struct ConnectionLifetimeTests {
  let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

  @Test func aClosedWebSocketConnectionIsFreed() throws {
    weak var connection: WebSocketChannelConnection?
    do {
      let channel = EmbeddedChannel()
      let (_, reference) = try WebSocketChannelConnection.install(
        on: channel, encoding: .binary, acceptsCloseSignal: true, readableChannels: [0], maxMessage: 1 << 16,
        logger: logger)
      connection = reference.connection.value
      _ = try channel.finish()
    }
    #expect(connection == nil)
  }

  @Test func aClosedSPDYConnectionIsFreed() throws {
    weak var connection: SPDYServerConnection?
    do {
      let channel = EmbeddedChannel()
      let (_, sink) = AsyncStream<SPDYSessionEvent>.makeStream()
      let handler = SPDYServerConnection(events: sink, logger: logger)
      try channel.pipeline.syncOperations.addHandler(handler)
      let reference = handler.reference
      connection = reference.connection.value
      _ = try channel.finish()
    }
    #expect(connection == nil)
  }
}
