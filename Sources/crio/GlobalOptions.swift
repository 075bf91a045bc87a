import ArgumentParser
import Config

#if canImport(Glibc)
import Glibc
#endif

/// The flags every subcommand accepts: where the configuration comes from
/// and the CRI-O flags that override single keys of it.
struct GlobalOptions: ParsableArguments {
  @Option(help: "Path to the configuration file (default /etc/crio/crio.conf).")
  var config: String?

  @Option(name: .customLong("config-dir"), help: "Directory of drop-in configuration files, applied in lexical order (default /etc/crio/crio.conf.d).")
  var configDir: String?

  @Option(help: "Path of the CRI socket ([crio.api] listen).")
  var listen: String?

  @Option(help: "Root directory for persistent data ([crio] root).")
  var root: String?

  @Option(help: "Root directory for run-time state ([crio] runroot).")
  var runroot: String?

  @Option(name: .customLong("log-level"), help: "Log level: trace, debug, info, warn, error, fatal or panic ([crio.runtime] log_level).")
  var logLevel: String?

  @Option(name: .customLong("log-dir"), help: "Default directory for container logs ([crio] log_dir).")
  var logDir: String?

  @Option(name: .customLong("cgroup-manager"), help: "cgroupfs or systemd ([crio.runtime] cgroup_manager).")
  var cgroupManager: String?

  @Option(name: .customLong("default-runtime"), help: "Runtime handler used when a pod names none ([crio.runtime] default_runtime).")
  var defaultRuntime: String?

  @Option(name: .customLong("runtime-path"), help: "OCI runtime binary of the default runtime handler (runtime_path).")
  var runtimePath: String?

  @Option(help: "Monitor (conmon) binary of the default runtime handler (monitor_path).")
  var conmon: String?

  @Option(name: .customLong("storage-driver"), help: "Storage driver ([crio] storage_driver).")
  var storageDriver: String?

  @Option(name: .customLong("cni-config-dir"), help: "CNI configuration directory ([crio.network] network_dir).")
  var cniConfigDir: String?

  @Option(name: .customLong("cni-plugin-dir"), parsing: .singleValue, help: "CNI plugin directory, repeatable ([crio.network] plugin_dirs).")
  var cniPluginDir: [String] = []

  @Option(name: .customLong("registries-conf"), help: "registries.conf path ([crio.image] registries_conf).")
  var registriesConf: String?

  @Option(name: .customLong("signature-policy"), help: "Signature policy file ([crio.image] signature_policy).")
  var signaturePolicy: String?

  @Option(name: .customLong("pause-image"), help: "Pause image ([crio.image] pause_image).")
  var pauseImage: String?

  @Flag(name: .customLong("enable-metrics"), help: "Serve Prometheus metrics ([crio.metrics] enable_metrics).")
  var enableMetrics = false

  @Option(name: .customLong("metrics-host"), help: "Address of the metrics endpoint (metrics_host).")
  var metricsHost: String?

  @Option(name: .customLong("metrics-port"), help: "Port of the metrics endpoint (metrics_port).")
  var metricsPort: Int?

  @Option(name: .customLong("metrics-socket"), help: "Unix socket the metrics are served on as well (metrics_socket).")
  var metricsSocket: String?

  @Option(name: .customLong("metrics-cert"), help: "Certificate for HTTPS metrics (metrics_cert).")
  var metricsCert: String?

  @Option(name: .customLong("metrics-key"), help: "Key for HTTPS metrics (metrics_key).")
  var metricsKey: String?

  @Option(
    name: .customLong("metrics-collectors"), parsing: .singleValue,
    help: "Collectors to serve, repeatable or comma-separated (metrics_collectors).")
  var metricsCollectors: [String] = []

  /// The effective configuration: files, then these flags, validated.
  func loadConfig() throws(ConfigError) -> (config: CrioConfig, warnings: [String]) {
    let loader = ConfigLoader(systemdIsRunning: access("/run/systemd/system", F_OK) == 0)
    return try loader.load(configFile: self.config, configDir: configDir) { (config) throws(ConfigError) in
      try apply(to: &config)
    }
  }

  private func apply(to config: inout CrioConfig) throws(ConfigError) {
    if let listen { config.api.listen = listen }
    if let root { config.root = root }
    if let runroot { config.runroot = runroot }
    if let logDir { config.logDir = logDir }
    if let storageDriver { config.storageDriver = storageDriver }
    if let defaultRuntime { config.runtime.defaultRuntime = defaultRuntime }
    if let cniConfigDir { config.network.networkDir = cniConfigDir }
    if !cniPluginDir.isEmpty { config.network.pluginDirs = cniPluginDir }
    if let registriesConf { config.image.registriesConf = registriesConf }
    if let signaturePolicy { config.image.signaturePolicy = signaturePolicy }
    if let pauseImage { config.image.pauseImage = pauseImage }
    if enableMetrics { config.metrics.enableMetrics = true }
    if let metricsHost { config.metrics.metricsHost = metricsHost }
    if let metricsPort { config.metrics.metricsPort = metricsPort }
    if let metricsSocket { config.metrics.metricsSocket = metricsSocket }
    if let metricsCert { config.metrics.metricsCert = metricsCert }
    if let metricsKey { config.metrics.metricsKey = metricsKey }
    if !metricsCollectors.isEmpty {
      config.metrics.metricsCollectors = metricsCollectors.flatMap { $0.split(separator: ",").map(String.init) }
    }
    if let logLevel {
      guard let level = LogLevel(parsing: logLevel) else {
        throw ConfigError(flag: "--log-level", message: "expected one of trace, debug, info, warn, error, fatal, panic; got \"\(logLevel)\"")
      }
      config.runtime.logLevel = level
    }
    if let cgroupManager {
      guard let manager = CgroupManager(rawValue: cgroupManager) else {
        throw ConfigError(flag: "--cgroup-manager", message: "expected \"cgroupfs\" or \"systemd\", got \"\(cgroupManager)\"")
      }
      config.runtime.cgroupManager = manager
    }
    if runtimePath != nil || conmon != nil {
      let name = config.runtime.defaultRuntime
      var handler = config.runtime.runtimes[name] ?? RuntimeHandler(name: name)
      if let runtimePath { handler.runtimePath = runtimePath }
      if let conmon { handler.monitorPath = conmon }
      config.runtime.runtimes[name] = handler
    }
  }
}

extension ConfigError {
  init(flag: String, message: String) {
    self.init(key: flag, message: message)
  }
}
