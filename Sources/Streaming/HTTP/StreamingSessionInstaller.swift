import Logging
import NIOCore
import StreamingWire

/// Puts the protocol handlers on an upgraded channel and starts the session
/// task. The task is cancelled when the channel closes, which is how a
/// client that vanishes ends its runtime call.
struct StreamingSessionInstaller: Sendable {
  let runtime: any StreamingRuntime
  let creationTimeout: Duration
  let maxWebSocketMessage: Int
  let logger: Logger

  func installSPDY(on channel: Channel, route: StreamingRoute) throws {
    let (events, eventSink) = AsyncStream<SPDYSessionEvent>.makeStream()
    let acceptStream: (SPDYHeaders) -> Bool
    if case .spdyPortForward = route { acceptStream = SPDYPortForwardSession.acceptsStream } else { acceptStream = { _ in true } }
    let connection = SPDYServerConnection(events: eventSink, logger: logger, acceptStream: acceptStream)
    let sync = channel.pipeline.syncOperations
    try sync.addHandler(ByteToMessageHandler(SPDYFrameDecoder()))
    try sync.addHandler(MessageToByteHandler(SPDYFrameEncoder()))
    try sync.addHandler(connection)
    let reference = connection.reference
    let runtime = runtime
    let creationTimeout = creationTimeout
    let logger = logger
    start(on: channel) {
      switch route {
      case .spdyRemoteCommand(let target, let version, _):
        let session = SPDYRemoteCommandSession(
          target: target, version: version, runtime: runtime, creationTimeout: creationTimeout, logger: logger)
        await session.run(events: events, eventSink: eventSink, connection: reference)
      case .spdyPortForward(let request, _):
        let session = SPDYPortForwardSession(
          podSandboxID: request.podSandboxID, runtime: runtime, creationTimeout: creationTimeout, logger: logger)
        await session.run(events: events, eventSink: eventSink, connection: reference)
        reference.shutdown()
      case .webSocketRemoteCommand, .webSocketPortForward:
        break
      }
    }
  }

  func installWebSocket(on channel: Channel, route: StreamingRoute) throws {
    let encoding: ChannelEncoding
    let readableChannels: [UInt8]
    var acceptsCloseSignal = false
    switch route {
    case .webSocketRemoteCommand(let target, let version, let chosen, _):
      encoding = chosen
      readableChannels = WebSocketRemoteCommandSession.readableChannels(target.streams)
      acceptsCloseSignal = version == .v5
    case .webSocketPortForward(_, let ports, let chosen, _):
      encoding = chosen
      readableChannels = ports.indices.map { WebSocketPortForwardSession.dataChannel(forPortAt: $0) }
    case .spdyRemoteCommand, .spdyPortForward:
      throw StreamingUpgradeError.notRouted
    }
    let (readers, reference) = try WebSocketChannelConnection.install(
      on: channel, encoding: encoding, acceptsCloseSignal: acceptsCloseSignal, readableChannels: readableChannels,
      maxMessage: maxWebSocketMessage, logger: logger)
    let runtime = runtime
    let logger = logger
    let frozenReaders = readers
    start(on: channel) {
      switch route {
      case .webSocketRemoteCommand(let target, let version, _, _):
        let session = WebSocketRemoteCommandSession(target: target, version: version, runtime: runtime, logger: logger)
        await session.run(connection: reference, readers: frozenReaders)
      case .webSocketPortForward(let request, let ports, _, _):
        let session = WebSocketPortForwardSession(
          podSandboxID: request.podSandboxID, ports: ports, runtime: runtime, logger: logger)
        await session.run(connection: reference, readers: frozenReaders)
      case .spdyRemoteCommand, .spdyPortForward:
        break
      }
    }
  }

  private func start(on channel: Channel, _ body: @escaping @Sendable () async -> Void) {
    let task = Task { await body() }
    channel.closeFuture.whenComplete { _ in task.cancel() }
  }
}
