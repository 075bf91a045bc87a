import Support

/// Reads crio.conf and its drop-in directory the way CRI-O does: the main file, then every
/// `*.conf` in the directory in lexical order, each overriding only the keys it sets.
public struct ConfigLoader: Sendable {
  public static let defaultConfigFile = "/etc/crio/crio.conf"
  public static let defaultConfigDir = "/etc/crio/crio.conf.d"

  /// Whether systemd is PID 1; decides the default cgroup manager.
  public let systemdIsRunning: Bool

  /// - Parameter systemdIsRunning: the `cgroup_manager` default is `.systemd` only when true,
  ///   else `.cgroupfs` (CRI-O defaults to systemd; a node without systemd as init cannot use it).
  ///   The daemon passes whether `/run/systemd/system` exists.
  public init(systemdIsRunning: Bool) {
    self.systemdIsRunning = systemdIsRunning
  }

  /// CRI-O's defaults adapted to this host.
  public func defaults() -> CrioConfig {
    var config = CrioConfig()
    config.runtime.cgroupManager = systemdIsRunning ? .systemd : .cgroupfs
    return config
  }

  /// Loads the effective configuration and validates it.
  /// - Parameters:
  ///   - configFile: nil means `/etc/crio/crio.conf` when it exists; a file named explicitly must exist.
  ///   - configDir: nil means `/etc/crio/crio.conf.d`; a missing directory means no drop-ins
  ///     (with a warning when it was named explicitly). Only regular `*.conf` files are read.
  ///   An empty string for either means none (`--config ""` runs on defaults and drop-ins).
  ///   - overrides: applied after the files and before validation (command-line flags), so a
  ///     flag can fix what a file got wrong and a flag's bad value is reported like a file's.
  /// - Returns: the merged configuration and the warnings (unknown keys and tables) to log.
  public func load(
    configFile: String?,
    configDir: String?,
    overrides: (inout CrioConfig) throws(ConfigError) -> Void = { _ in }
  ) throws(ConfigError) -> (config: CrioConfig, warnings: [String]) {
    var config = defaults()
    var warnings: [String] = []
    // Which file last set each `[table] key`, to name it in errors found after merging.
    var origin: [String: String] = [:]

    func applyFile(_ path: String) throws(ConfigError) {
      var parser = ConfigParser(file: path, base: config)
      try parser.apply(toml: try Self.read(path))
      config = parser.config
      warnings += parser.warnings
      for key in parser.assignedKeys { origin[key] = path }
    }

    let mainFile = configFile ?? Self.defaultConfigFile
    switch mainFile.isEmpty ? .missing : Files.kind(of: mainFile) {
    case .file, .other:
      try applyFile(mainFile)
    case .directory:
      throw ConfigError(file: mainFile, message: "expected a config file, found a directory")
    case .missing:
      if configFile?.isEmpty == false { throw ConfigError(file: mainFile, message: "config file does not exist") }
    }

    let dir = configDir ?? Self.defaultConfigDir
    switch dir.isEmpty ? .missing : Files.kind(of: dir) {
    case .directory:
      for path in try Self.dropInFiles(in: dir) { try applyFile(path) }
    case .file, .other:
      throw ConfigError(file: dir, message: "expected a directory of *.conf drop-in files, found a file")
    case .missing:
      if configDir?.isEmpty == false { warnings.append("\(dir): config directory does not exist, no drop-in files loaded") }
    }

    try overrides(&config)
    config.runtime.translateDeprecatedMonitorKeys()
    do {
      try config.validate()
    } catch var failure {
      if failure.file == nil, let key = failure.key {
        // A monitor_cgroup clash may come from the file that changed cgroup_manager instead.
        failure.file = origin[key] ?? (key.hasSuffix("] monitor_cgroup") ? origin["[crio.runtime] cgroup_manager"] : nil)
      }
      throw failure
    }
    // CRI-O raises a lower ctr_stop_timeout to its floor, with a warning, instead of failing.
    if config.runtime.ctrStopTimeout < RuntimeConfig.minimumCtrStopTimeout {
      warnings.append(
        "\(origin["[crio.runtime] ctr_stop_timeout"] ?? "command line"): [crio.runtime] ctr_stop_timeout \(config.runtime.ctrStopTimeout) is below the lowest possible value; \(RuntimeConfig.minimumCtrStopTimeout) is used")
      config.runtime.ctrStopTimeout = RuntimeConfig.minimumCtrStopTimeout
    }
    return (config, warnings)
  }

  /// Parses one TOML document on top of `base`. Checks each value it sets but not the rules
  /// spanning keys (a handler named by `default_runtime` may come from a later file): call
  /// `validate()` on the final result.
  public func apply(toml: String, file: String, to base: CrioConfig) throws(ConfigError) -> (config: CrioConfig, warnings: [String]) {
    var parser = ConfigParser(file: file, base: base)
    try parser.apply(toml: toml)
    return (parser.config, parser.warnings)
  }

  /// `*.conf` entries that are (or link to) regular files, in byte order like Go's sort.Strings.
  private static func dropInFiles(in dir: String) throws(ConfigError) -> [String] {
    let names: [String]
    do {
      names = try Files.list(dir)
    } catch {
      throw ConfigError(file: dir, message: "cannot list the config directory: \(error.reason)")
    }
    return names
      .filter { $0.hasSuffix(".conf") }
      .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
      .map { dir.hasSuffix("/") ? dir + $0 : dir + "/" + $0 }
      .filter { Files.kind(of: $0) == .file }
  }

  private static func read(_ path: String) throws(ConfigError) -> String {
    let bytes: [UInt8]
    do {
      bytes = try Files.readBytes(path)
    } catch {
      throw ConfigError(file: path, message: "cannot read the file: \(error.reason)")
    }
    guard let text = String(validating: bytes, as: UTF8.self) else {
      throw ConfigError(file: path, message: "expected UTF-8 text")
    }
    return text
  }
}
