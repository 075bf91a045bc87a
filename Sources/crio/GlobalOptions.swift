import ArgumentParser
import Config

#if canImport(Glibc)
import Glibc
#endif

/// The global flags a command that reads the configuration receives:
/// `GlobalArguments` has rewritten each (before or after the subcommand)
/// into `--global-flag name=value`; `GlobalFlag.all` says what each sets.
struct GlobalOptions: ParsableArguments {
  @Option(name: .customLong("global-flag"), parsing: .singleValue, help: .private)
  var flags: [String] = []

  /// The effective configuration: files, then these flags, validated.
  func loadConfig() throws(ConfigError) -> (config: CrioConfig, warnings: [String]) {
    let given = try parsed()
    let loader = ConfigLoader(systemdIsRunning: access("/run/systemd/system", F_OK) == 0)
    return try loader.load(configFile: given.last { $0.flag.target.isConfigFile }?.value, configDir: given.last { $0.flag.target.isConfigDir }?.value) {
      (config) throws(ConfigError) in
      try Self.apply(given, to: &config)
    }
  }

  private func parsed() throws(ConfigError) -> [(flag: GlobalFlag, value: String)] {
    var result: [(flag: GlobalFlag, value: String)] = []
    for entry in flags {
      let name = String(entry.prefix { $0 != "=" })
      guard let flag = GlobalFlag.named(name) else { throw ConfigError(flag: "--" + name, message: "unknown flag") }
      result.append((flag, String(entry.dropFirst(min(entry.count, name.count + 1)))))
    }
    return result
  }

  /// Applies the flags in table order, a repeated flag's values together
  /// (a list gets them all, a scalar the last).
  private static func apply(_ given: [(flag: GlobalFlag, value: String)], to config: inout CrioConfig) throws(ConfigError) {
    // default_runtime first: --conmon and friends change the handler it names.
    let ordered = given.filter { $0.flag.name == "default-runtime" } + given.filter { $0.flag.name != "default-runtime" }
    var seen: Set<String> = []
    for (flag, _) in ordered where seen.insert(flag.name).inserted {
      let values = given.filter { $0.flag.name == flag.name }.map(\.value)
      switch flag.target {
      case .configFile, .configDir, .refused: continue
      case .key(let table, let name): try config.set(table: table, name: name, fromFlag: flag.spelling, values: values)
      case .defaultHandler(let name): try config.setDefaultHandler(name: name, fromFlag: flag.spelling, values: values)
      case .handlers: try config.setHandlers(fromFlag: flag.spelling, values: values)
      }
    }
  }
}

extension GlobalFlag.Target {
  var isConfigFile: Bool { if case .configFile = self { true } else { false } }
  var isConfigDir: Bool { if case .configDir = self { true } else { false } }
}
