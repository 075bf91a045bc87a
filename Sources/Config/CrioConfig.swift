/// The daemon's configuration: the `[crio]` table of crio.conf and its sub-tables.
///
/// Property defaults are CRI-O's, so `CrioConfig()` equals what CRI-O uses with no config
/// file (except `cgroupManager`, which `ConfigLoader.defaults()` adapts to the host).
public struct CrioConfig: Sendable, Equatable {
  /// `root`: where images and containers are stored.
  public var root: String = "/var/lib/crio"
  /// `runroot`: where volatile state is kept.
  public var runroot: String = "/var/run/crio"
  /// `storage_driver`.
  public var storageDriver: String = "overlay"
  /// `storage_option`: driver options, e.g. `overlay.mountopt=nodev`.
  public var storageOption: [String] = []
  /// `storage_option` parsed (validation refused what it cannot honour).
  public var storageOptions: StorageOptions { (try? StorageOptions(parsing: storageOption)) ?? StorageOptions() }
  /// `log_dir`: default directory of container logs.
  public var logDir: String = "/var/log/crio/pods"
  /// `version_file`: lives on tmpfs, so its absence means the node rebooted.
  public var versionFile: String = "/var/run/crio/version"
  /// `version_file_persist`: survives reboots, so a changed version means an upgrade.
  public var versionFilePersist: String = ""
  /// `clean_shutdown_file`: written on a clean stop; missing at start means storage may be corrupt.
  public var cleanShutdownFile: String = "/var/lib/crio/clean.shutdown"
  /// `internal_wipe`: wipe stale containers at start instead of relying on `crio wipe`.
  public var internalWipe: Bool = true

  public var api = APIConfig()
  public var runtime = RuntimeConfig()
  public var image = ImageConfig()
  public var network = NetworkConfig()
  public var metrics = MetricsConfig()
  public var stats = StatsConfig()
  public var tracing = TracingConfig()
  public var nri = NRIConfig()

  /// CRI-O's defaults.
  public init() {}
}

/// `cgroup_manager`.
public enum CgroupManager: String, Sendable, Equatable, CaseIterable {
  case cgroupfs, systemd
}

/// `log_level`, with logrus' names because CRI-O configs use them.
public enum LogLevel: String, Sendable, Equatable, CaseIterable {
  case trace, debug, info, warn, error, fatal, panic

  /// Parses like logrus: case-insensitive, and "warning" means `warn`.
  public init?(parsing text: String) {
    let lowered = text.lowercased()
    if lowered == "warning" {
      self = .warn
    } else if let level = LogLevel(rawValue: lowered) {
      self = level
    } else {
      return nil
    }
  }
}
