import ArgumentParser
import Support
import Config

#if canImport(Glibc)
import Glibc
#endif

/// Prints the effective configuration as TOML that `crio --config` accepts back.
struct ConfigCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "config",
    abstract: "Print the effective configuration (files plus flags) as crio.conf TOML.",
    discussion: "Takes the global options (see crio --help)."
  )

  @OptionGroup var options: GlobalOptions

  @Flag(name: .customLong("default"), help: "Print the built-in defaults instead, ignoring files and flags.")
  var defaults = false

  func run() throws {
    let config: CrioConfig
    if defaults {
      config = ConfigLoader(systemdIsRunning: access("/run/systemd/system", F_OK) == 0).defaults()
    } else {
      let (loaded, warnings) = try exitOnError { () throws(ConfigError) in try options.loadConfig() }
      for warning in warnings { printToStandardError("crio: warning: \(warning)\n") }
      config = loaded
    }
    print(config.renderTOML(), terminator: "")
  }
}
