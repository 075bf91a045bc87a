import NIOCore

/// How the streaming server listens and how long it waits.
public struct StreamingServerConfiguration: Sendable {
  /// Address to bind (CRI-O's `stream_address`).
  public var host: String
  /// Port to bind; 0 picks a free one (CRI-O's `stream_port`).
  public var port: Int
  /// How long a token from `register` stays usable.
  public var tokenTimeToLive: Duration
  /// Close a connection with no traffic for this long; nil never does
  /// (CRI-O's `stream_idle_timeout`, empty by default).
  public var idleTimeout: Duration?
  /// How long an SPDY client has to open the streams a request needs.
  public var streamCreationTimeout: Duration
  /// Host (and port) to put in URLs instead of the bound address, e.g. when
  /// binding 0.0.0.0.
  public var advertisedAuthority: String?
  /// "http", or "https" when `channelInitializerPrefix` adds TLS.
  public var urlScheme: String
  /// Runs first on every accepted connection, before any HTTP handler: the
  /// place to add a TLS handler.
  public var channelInitializerPrefix: (@Sendable (Channel) -> EventLoopFuture<Void>)?
  /// The clock tokens expire by; tests inject their own.
  public var now: TokenCache.Clock
  /// The largest WebSocket message accepted from a client.
  public var maxWebSocketMessage: Int

  public init(
    host: String = "127.0.0.1", port: Int = 0, tokenTimeToLive: Duration = .seconds(60), idleTimeout: Duration? = nil,
    streamCreationTimeout: Duration = .seconds(30), advertisedAuthority: String? = nil, urlScheme: String = "http",
    channelInitializerPrefix: (@Sendable (Channel) -> EventLoopFuture<Void>)? = nil,
    now: @escaping TokenCache.Clock = { ContinuousClock.now }, maxWebSocketMessage: Int = 1 << 20
  ) {
    self.host = host
    self.port = port
    self.tokenTimeToLive = tokenTimeToLive
    self.idleTimeout = idleTimeout
    self.streamCreationTimeout = streamCreationTimeout
    self.advertisedAuthority = advertisedAuthority
    self.urlScheme = urlScheme
    self.channelInitializerPrefix = channelInitializerPrefix
    self.now = now
    self.maxWebSocketMessage = maxWebSocketMessage
  }
}
