#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import BuildInfo
import Config
import CSupport
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Logging
import NIOPosix
import Streaming
import Support
import Synchronization

/// The long-running daemon: binds the CRI socket, serves the CRI services and
/// the inspection API on it, and reacts to signals (TERM/INT: graceful stop,
/// HUP: reload what can be reloaded).
public struct Daemon: Sendable {
  /// How long in-flight RPCs get to finish after SIGTERM before they are cut off.
  public static let shutdownGrace: Duration = .seconds(10)

  let config: CrioConfig
  let logger: Logger
  let levelSwitch: LogLevelSwitch
  /// Loads the configuration again, as at start-up (files plus CLI flags), for SIGHUP.
  let reloadConfig: @Sendable () throws -> CrioConfig

  public init(
    config: CrioConfig, logger: Logger, levelSwitch: LogLevelSwitch,
    reloadConfig: @escaping @Sendable () throws -> CrioConfig
  ) {
    self.config = config
    self.logger = logger
    self.levelSwitch = levelSwitch
    self.reloadConfig = reloadConfig
  }

  public func run() async throws {
    let config = self.config
    let logger = self.logger
    SystemdNotify.claimSocket()
    Self.returnLargeAllocations()
    Self.raiseOpenFileLimit()
    try makeDirectories(config.root, mode: 0o700)
    try makeDirectories(config.runroot, mode: 0o700)
    // Before touching storage: a live daemon on the socket owns it, and
    // start-up clean-up would delete its in-progress downloads.
    try SocketPath.prepare(config.api.listen)
    let cleanShutdown = CleanShutdown(config: config)
    let uncleanStop = cleanShutdown.lastStopWasUnclean
    let context = try await DaemonContext(config: config, logger: logger)
    // From here on a failure must still close the registry client (its
    // deinit traps otherwise), so the daemon exits with one line that says why.
    try await withCleanUp {
      let exits = try ExitMonitor(supervisor: context.containers.supervisor, directory: config.runtime.containerExitsDir)
      try await Recovery(daemon: context).run()
      context.events.endRecovery()
      let exitWatching = Task { await exits.run() }
      defer { exitWatching.cancel() }
      // With the exit monitor running: removing a running container waits for its exit.
      await Wipe(daemon: context).atStart(afterUncleanStop: uncleanStop)
      try Self.markStarted(config, cleanShutdown)
      let restored = context.pods.supervisor.index.all.map(\.record)
      Task { await context.network.checkRestored(restored, logger: logger) }
      let streaming = try await StreamingServer.start(
        configuration: try Self.streamingConfiguration(config.api), runtime: ContainerStreams(daemon: context), logger: logger)
      try await withCleanUp {
        var metrics: MetricsServer?
        if config.metrics.enableMetrics {
          context.metrics.bootstrapMetricsSystem()
          metrics = try await MetricsServer.start(
            config: config.metrics, responder: { await context.metricsResponse(to: $0) }, logger: logger)
        }
        try await withCleanUp { try await serve(context, streaming: streaming) } cleanUp: { await metrics?.stop() }
      } cleanUp: {
        await streaming.stop()
      }
    } cleanUp: {
      await context.images.shutdown()
    }
    do {
      try cleanShutdown.stoppedCleanly(root: config.root)
    } catch {
      logger.warning("Cannot write the clean shutdown file", metadata: ["file": "\(config.cleanShutdownFile)", "error": "\(error)"])
    }
    logger.info("Stopped")
  }

  /// CRI-O writes its version files once start-up has recovered (and wiped)
  /// its state, so a daemon that fails before that finds the same state at
  /// its next start; the clean shutdown file goes at the same time.
  static func markStarted(_ config: CrioConfig, _ cleanShutdown: CleanShutdown) throws {
    for path in [config.versionFile, config.versionFilePersist] {
      do {
        try VersionFile.write(path)
      } catch {
        throw DaemonError.stateFile(path: path, reason: "cannot write the version file: \(error.reason)")
      }
    }
    try cleanShutdown.started()
  }

  /// Makes large buffers go back to the system when freed. An ExecSync
  /// answer of up to 16 MiB passes through several buffers that size on its
  /// way out (the output, the message, its gRPC frame). glibc's dynamic mmap
  /// threshold rises to the size of the largest mapped block freed, so from
  /// the second answer on those buffers come from the heap, and freed they
  /// stay resident: the daemon kept 60-80 MiB for good after a few such
  /// calls. A fixed threshold keeps every allocation of 1 MiB or more mapped
  /// on its own; smaller ones, the daemon's everyday traffic, stay on the
  /// heap, where they are cheapest.
  static func returnLargeAllocations() {
    _ = crio_set_mmap_threshold(1 << 20)
  }

  /// The soft open-file limit up to the hard one, as Go's start-up does for
  /// CRI-O and containerd: the daemon holds a descriptor or more per pod
  /// and stream, and conmon, runc and containers without `default_ulimits`
  /// inherit the same limits they would under CRI-O.
  static func raiseOpenFileLimit() {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
    limit.rlim_cur = limit.rlim_max
    _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
  }

  /// The exec/attach/port-forward server's settings from `[crio.api]`.
  static func streamingConfiguration(_ api: APIConfig) throws -> StreamingServerConfiguration {
    var configuration = StreamingServerConfiguration(host: api.streamAddress, port: Int(api.streamPort) ?? 0)
    if api.streamEnableTLS {
      let tls = try StreamingTLS(
        certificatePath: api.streamTLSCert, keyPath: api.streamTLSKey,
        clientCAPath: api.streamTLSCA.isEmpty ? nil : api.streamTLSCA)
      configuration.channelInitializerPrefix = tls.channelInitializer
      configuration.urlScheme = "https"
    }
    if let idle = GoDuration(api.streamIdleTimeout), idle.nanoseconds > 0 {
      configuration.idleTimeout = idle.duration
    }
    return configuration
  }

  /// Serves the socket until a signal stops the daemon.
  private func serve(_ context: DaemonContext, streaming: StreamingServer) async throws {
    let config = self.config
    let logger = self.logger
    let inspect = InspectAPI(daemon: context)
    let listener = UnixSocketListener(
      path: config.api.listen,
      eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
      http1Responder: { await inspect.respond(to: $0) },
      onListening: {
        logger.info("Serving CRI on the socket", metadata: ["socket": "\(config.api.listen)", "version": "\(ProjectVersion.version)"])
        // Type=notify: systemd (and kubelet after it) may go on now.
        SystemdNotify.ready()
      }
    )
    var connection = HTTP2ServerTransport.Config.Connection.defaults
    // CRI calls are small and latency-bound: write each response at once
    // rather than waiting to coalesce flushes.
    connection.flushCoalescing = nil
    let transport = HTTP2ServerTransport.Custom(
      listenerFactory: listener,
      config: .init(
        compression: .defaults,
        connection: connection,
        http2: .defaults,
        rpc: .init(maxRequestPayloadSize: config.api.grpcMaxRecvMsgSize),
        // Answers requests over that limit RESOURCE_EXHAUSTED, not CANCELLED.
        channelDebuggingCallbacks: RequestSizeLimit.callbacks(limit: config.api.grpcMaxRecvMsgSize)
      )
    )
    let server = GRPCServer(
      transport: transport,
      services: [CRIRuntimeService(daemon: context, streaming: streaming), CRIImageService(daemon: context)],
      interceptors: (config.metrics.enableMetrics ? [MetricsInterceptor(metrics: context.metrics)] : [])
        + [RequestLogInterceptor(logger: logger), CancellationInterceptor(), SendSizeLimitInterceptor(limit: config.api.grpcMaxSendMsgSize)]
    )

    let signals = SignalWatcher(signals: [SIGTERM, SIGINT, SIGHUP])
    defer {
      if unlink(config.api.listen) != 0 && errno != ENOENT {
        logger.warning("Could not remove the socket", metadata: ["socket": "\(config.api.listen)", "error": "\(SystemError("unlink").reason)"])
      }
    }
    let stopping = StopFlag()
    try await withThrowingTaskGroup(of: Void.self) { group in
      group.addTask {
        do {
          try await server.serve()
        } catch where stopping.isSet {
          // A signal that arrives while the listener is still starting makes
          // serve() fail; that is a stop, not an error.
        }
      }
      group.addTask {
        for await signal in signals.stream {
          if signal == SIGHUP {
            SystemdNotify.reloading()
            reload(context: context)
            SystemdNotify.ready()
            continue
          }
          logger.info("Received signal, shutting down", metadata: ["signal": "\(signalName(signal))"])
          SystemdNotify.stopping()
          stopping.set()
          server.beginGracefulShutdown()
          try await Task.sleep(for: Self.shutdownGrace)
          logger.warning("In-flight calls did not finish in time; stopping anyway", metadata: ["grace": "\(Self.shutdownGrace)"])
          throw CancellationError()
        }
      }
      // Whichever ends first (serve after a graceful stop, or the grace
      // timer) ends the daemon.
      do {
        try await group.next()
      } catch is CancellationError {}
      group.cancelAll()
    }
    signals.stop()
  }

  /// SIGHUP: re-reads the configuration and applies what can change at run
  /// time (ConfigReload lists it); anything else that changed is named as
  /// needing a restart, so an operator knows why it did not take effect.
  private func reload(context: DaemonContext) {
    let fresh: CrioConfig
    do {
      fresh = try reloadConfig()
    } catch {
      logger.error("Configuration reload failed; keeping the running configuration", metadata: ["error": "\(error)"])
      return
    }
    ConfigReload(context: context, levelSwitch: levelSwitch, logger: logger).apply(fresh)
  }

}

/// Set once a stop has been requested.
final class StopFlag: Sendable {
  private let flag = Atomic<Bool>(false)
  var isSet: Bool { flag.load(ordering: .acquiring) }
  func set() { flag.store(true, ordering: .releasing) }
}

/// Maps CRI-O's log levels onto swift-log's.
public enum LogLevels {
  public static func swiftLog(_ level: LogLevel) -> Logger.Level {
    switch level {
    case .trace: .trace
    case .debug: .debug
    case .info: .info
    case .warn: .warning
    case .error: .error
    case .fatal, .panic: .critical
    }
  }
}

func signalName(_ signal: Int32) -> String {
  switch signal {
  case SIGTERM: "SIGTERM"
  case SIGINT: "SIGINT"
  case SIGHUP: "SIGHUP"
  default: "signal \(signal)"
  }
}
