import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import Synchronization

/// The streaming HTTP server CRI Exec, Attach and PortForward hand out URLs
/// for (kubelet's pkg/kubelet/cri/streaming server, as CRI-O runs it):
/// `register` stores a request under a one-time token and returns its URL;
/// the client connects there and upgrades to SPDY/3.1 or WebSocket.
public final class StreamingServer: Sendable {
  /// The port actually bound.
  public let port: Int
  public let tokens: TokenCache

  private let configuration: StreamingServerConfiguration
  private let serverChannel: any Channel
  private let connections: ConnectionRegistry
  private let logger: Logger

  /// Binds and starts serving.
  public static func start(
    configuration: StreamingServerConfiguration = StreamingServerConfiguration(), runtime: any StreamingRuntime,
    logger: Logger, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
  ) async throws -> StreamingServer {
    let tokens = TokenCache(timeToLive: configuration.tokenTimeToLive, now: configuration.now)
    let connections = ConnectionRegistry()
    let installer = StreamingSessionInstaller(
      runtime: runtime, creationTimeout: configuration.streamCreationTimeout,
      maxWebSocketMessage: configuration.maxWebSocketMessage, logger: logger)
    let router = StreamingRouter(tokens: tokens)
    let serverChannel = try await ServerBootstrap(group: group)
      .serverChannelOption(.backlog, value: 256)
      .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
      .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
      .childChannelInitializer { channel in
        connections.track(channel)
        let prefix = configuration.channelInitializerPrefix.map { $0(channel) } ?? channel.eventLoop.makeSucceededVoidFuture()
        return prefix.flatMapThrowing {
          try Self.configureHTTP(
            channel, router: router, installer: installer, idleTimeout: configuration.idleTimeout, logger: logger)
        }
      }
      .bind(host: configuration.host, port: configuration.port)
      .get()
    let port = serverChannel.localAddress?.port ?? configuration.port
    logger.info("streaming server listening", metadata: ["address": "\(configuration.host):\(port)"])
    return StreamingServer(
      port: port, tokens: tokens, configuration: configuration, serverChannel: serverChannel, connections: connections,
      logger: logger)
  }

  private init(
    port: Int, tokens: TokenCache, configuration: StreamingServerConfiguration, serverChannel: any Channel,
    connections: ConnectionRegistry, logger: Logger
  ) {
    self.port = port
    self.tokens = tokens
    self.configuration = configuration
    self.serverChannel = serverChannel
    self.connections = connections
    self.logger = logger
  }

  /// Validates `request`, stores it and returns the URL its client must use.
  public func register(_ request: StreamingRequest) throws(StreamingRequestError) -> String {
    switch request {
    case .exec(let exec):
      guard !exec.containerID.isEmpty else { throw .missingContainerID }
      try exec.streams.validate()
    case .attach(let attach):
      guard !attach.containerID.isEmpty else { throw .missingContainerID }
      try attach.streams.validate()
    case .portForward(let portForward):
      guard !portForward.podSandboxID.isEmpty else { throw .missingPodSandboxID }
    }
    let token = try tokens.insert(request)
    return "\(configuration.urlScheme)://\(authority)/\(request.pathKind)/\(token)"
  }

  /// host:port for URLs, brackets around IPv6 literals.
  public var authority: String {
    if let advertised = configuration.advertisedAuthority { return advertised }
    let host = configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host
    return "\(host):\(port)"
  }

  /// Number of connections open now (for tests and metrics).
  public var openConnectionCount: Int { connections.count }

  /// Stops listening and closes every connection, which cancels every
  /// session still running.
  public func stop() async {
    try? await serverChannel.close()
    for channel in connections.all { try? await channel.close() }
  }

  private static func configureHTTP(
    _ channel: any Channel, router: StreamingRouter, installer: StreamingSessionInstaller, idleTimeout: Duration?,
    logger: Logger
  ) throws {
    let sync = channel.pipeline.syncOperations
    if let idleTimeout {
      try sync.addHandler(IdleStateHandler(allTimeout: .nanoseconds(Int64(idleTimeout.nanoseconds))))
      try sync.addHandler(IdleConnectionCloser())
    }
    let route = NIOLoopBoundBox<StreamingRoute?>.makeEmptyBox(valueType: StreamingRoute.self, eventLoop: channel.eventLoop)
    let decoder = ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes))
    let encoder = HTTPResponseEncoder()
    let gate = StreamingRequestGate(router: router, route: route, logger: logger)
    let fallback = UnupgradedRequestResponder()
    let spdy = SPDYServerUpgrader(route: route) { channel, route in try installer.installSPDY(on: channel, route: route) }
    let webSocket = NIOWebSocketServerUpgrader(
      maxFrameSize: installer.maxWebSocketMessage,
      automaticErrorHandling: true,
      shouldUpgrade: { channel, _ in
        guard let decided = route.value, !decided.isSPDY else { return channel.eventLoop.makeSucceededFuture(nil) }
        var headers = HTTPHeaders()
        if !decided.protocolName.isEmpty { headers.add(name: "Sec-WebSocket-Protocol", value: decided.protocolName) }
        return channel.eventLoop.makeSucceededFuture(headers)
      },
      upgradePipelineHandler: { channel, _ in
        guard let decided = route.value else { return channel.eventLoop.makeFailedFuture(StreamingUpgradeError.notRouted) }
        return channel.eventLoop.makeCompletedFuture { try installer.installWebSocket(on: channel, route: decided) }
      })
    let upgrader = HTTPServerUpgradeHandler(
      upgraders: [spdy, webSocket], httpEncoder: encoder, extraHTTPHandlers: [decoder, gate, fallback],
      upgradeCompletionHandler: { _ in })
    try sync.addHandler(decoder)
    try sync.addHandler(encoder)
    try sync.addHandler(gate)
    try sync.addHandler(upgrader)
    try sync.addHandler(fallback)
  }
}

/// The server's open connections, so `stop` can close them.
final class ConnectionRegistry: Sendable {
  private let channels = Mutex<[ObjectIdentifier: any Channel]>([:])

  func track(_ channel: any Channel) {
    let key = ObjectIdentifier(channel)
    channels.withLock { $0[key] = channel }
    channel.closeFuture.whenComplete { _ in _ = self.channels.withLock { $0.removeValue(forKey: key) } }
  }

  var count: Int { channels.withLock { $0.count } }
  var all: [any Channel] { channels.withLock { Array($0.values) } }
}
