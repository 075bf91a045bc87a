/// `[crio.api]`: the CRI gRPC endpoint and the streaming (exec/attach/port-forward) server.
public struct APIConfig: Sendable, Equatable {
  /// `listen`: absolute path of the gRPC unix socket.
  public var listen: String = "/var/run/crio/crio.sock"
  /// `stream_address`.
  public var streamAddress: String = "127.0.0.1"
  /// `stream_port`: a string in CRI-O's format; "0" picks a free port.
  public var streamPort: String = "0"
  /// `stream_enable_tls`.
  public var streamEnableTLS: Bool = false
  /// `stream_tls_cert` / `stream_tls_key` / `stream_tls_ca`.
  public var streamTLSCert: String = ""
  public var streamTLSKey: String = ""
  public var streamTLSCA: String = ""
  /// `stream_idle_timeout`: a Go duration, or "" for no timeout.
  public var streamIdleTimeout: String = ""
  /// `grpc_max_send_msg_size` / `grpc_max_recv_msg_size`: bytes, 80 MiB as in CRI-O.
  public var grpcMaxSendMsgSize: Int = 83_886_080
  public var grpcMaxRecvMsgSize: Int = 83_886_080

  public init() {}

  /// `stream_port` as a number (validation guarantees it parses).
  public var streamPortNumber: Int { Int(streamPort) ?? 0 }

  /// `stream_idle_timeout` parsed; nil when unset.
  public var streamIdleTimeoutDuration: Duration? {
    streamIdleTimeout.isEmpty ? nil : GoDuration(streamIdleTimeout)?.duration
  }
}

/// `[crio.image]`: pulling and storing images.
public struct ImageConfig: Sendable, Equatable {
  /// `default_transport`.
  public var defaultTransport: String = "docker://"
  /// `global_auth_file`.
  public var globalAuthFile: String = ""
  /// `pause_image` / `pause_image_auth_file` / `pause_command`.
  public var pauseImage: String = "registry.k8s.io/pause:3.10"
  public var pauseImageAuthFile: String = ""
  public var pauseCommand: String = "/pause"
  /// `pinned_images`: never garbage-collected by the kubelet; `*` globs allowed.
  public var pinnedImages: [String] = []
  /// `signature_policy`: "" means /etc/containers/policy.json.
  public var signaturePolicy: String = ""
  /// `signature_policy_dir`: per-namespace policies.
  public var signaturePolicyDir: String = "/etc/crio/policies"
  /// `insecure_registries`.
  public var insecureRegistries: [String] = []
  /// `image_volumes`: "mkdir", "bind" or "ignore".
  public var imageVolumes: String = "mkdir"
  /// `big_files_temporary_dir`: "" means the system temp dir.
  public var bigFilesTemporaryDir: String = ""
  /// `auto_reload_registries`.
  public var autoReloadRegistries: Bool = false
  /// `pull_progress_timeout`: a Go duration; "0s" disables it.
  public var pullProgressTimeout: String = "0s"
  /// `max_parallel_downloads`: this project's key (CRI-O inherits containers/storage's 3).
  public var maxParallelDownloads: Int = 3
  /// `registries_conf` / `registries_conf_dir`: this project's keys for CRI-O's
  /// `--registries-conf` / `--registries-conf-dir` flags.
  public var registriesConf: String = "/etc/containers/registries.conf"
  public var registriesConfDir: String = "/etc/containers/registries.conf.d"

  public init() {}

  /// `pull_progress_timeout` parsed; zero means no timeout.
  public var pullProgressTimeoutDuration: Duration {
    GoDuration(pullProgressTimeout)?.duration ?? .zero
  }
}

/// `[crio.network]`: CNI.
public struct NetworkConfig: Sendable, Equatable {
  /// `cni_default_network`: "" means the first network found in `network_dir`.
  public var cniDefaultNetwork: String = ""
  /// `network_dir`.
  public var networkDir: String = "/etc/cni/net.d/"
  /// `plugin_dirs`: Debian's containernetworking-plugins install into /usr/lib/cni.
  public var pluginDirs: [String] = ["/opt/cni/bin/", "/usr/lib/cni/"]

  public init() {}
}

/// `[crio.metrics]`: the Prometheus endpoint.
public struct MetricsConfig: Sendable, Equatable {
  /// Every collector served: CRI-O 1.26's (its collectors.All(), without the
  /// `crio_` prefix), two of later releases, then this daemon's own.
  public static let allCollectors: [String] = [
    "operations", "operations_latency_microseconds_total", "operations_latency_microseconds",
    "operations_errors", "image_pulls_by_digest", "image_pulls_by_name", "image_pulls_by_name_skipped",
    "image_pulls_failures", "image_pulls_successes", "image_pulls_layer_size", "image_layer_reuse",
    "containers_oom_total", "containers_oom", "processes_defunct", "operations_total",
    "operations_latency_seconds", "operations_latency_seconds_total", "operations_errors_total",
    "image_pulls_bytes_total", "image_pulls_skipped_bytes_total", "image_pulls_failure_total",
    "image_pulls_success_total", "image_layer_reuse_total", "containers_oom_count_total",
    "containers_seccomp_notifier_count_total", "containers_events_dropped_total",
    "containers_stopped_monitor_count", "containers", "pods", "monitor_processes",
    "image_pull_throughput_bytes_per_second", "process",
  ]

  /// `enable_metrics`.
  public var enableMetrics: Bool = false
  /// `metrics_host` / `metrics_port`.
  public var metricsHost: String = "127.0.0.1"
  public var metricsPort: Int = 9090
  /// `metrics_socket`: serve on a unix socket instead when set.
  public var metricsSocket: String = ""
  /// `metrics_cert` / `metrics_key`: serve HTTPS when both are set.
  public var metricsCert: String = ""
  public var metricsKey: String = ""
  /// `metrics_collectors`.
  public var metricsCollectors: [String] = MetricsConfig.allCollectors

  public init() {}
}

/// `[crio.stats]`: how often container and pod stats are collected.
public struct StatsConfig: Sendable, Equatable {
  /// `stats_collection_period`: seconds; 0 collects on demand.
  public var statsCollectionPeriod: Int = 0
  /// `collection_period`: seconds; 0 collects on demand.
  public var collectionPeriod: Int = 0

  public init() {}
}

/// `[crio.tracing]`: OpenTelemetry tracing, which this daemon does not export; accepted
/// at CRI-O's defaults only.
public struct TracingConfig: Sendable, Equatable {
  public var enableTracing: Bool = false
  public var tracingEndpoint: String = "0.0.0.0:4317"
  public var tracingSamplingRatePerMillion: Int = 0

  public init() {}
}

/// `[crio.nri]`: Node Resource Interface plugins, which this daemon does not run;
/// accepted at CRI-O's defaults only.
public struct NRIConfig: Sendable, Equatable {
  public var enableNRI: Bool = false
  public var nriListen: String = "/var/run/nri/nri.sock"
  public var nriPluginDir: String = "/opt/nri/plugins"
  public var nriPluginConfigDir: String = "/etc/nri/conf.d"
  public var nriDisableConnections: Bool = false
  public var nriPluginRegistrationTimeout: String = "5s"
  public var nriPluginRequestTimeout: String = "2s"

  public init() {}
}
