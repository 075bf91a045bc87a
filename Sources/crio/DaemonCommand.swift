import ArgumentParser
import Support
import Config
import Logging
import Server

#if canImport(Glibc)
import Glibc
#endif

/// Runs the CRI daemon until SIGTERM or SIGINT.
struct DaemonCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "daemon",
    abstract: "Run the CRI daemon (the default when no subcommand is given).",
    discussion: GlobalFlag.helpText
  )

  @OptionGroup var options: GlobalOptions

  func run() async throws {
    let options = self.options
    let (config, warnings) = try exitOnError { () throws(ConfigError) in try options.loadConfig() }
    let levelSwitch = LogLevelSwitch(LogLevels.swiftLog(config.runtime.logLevel), filter: config.runtime.logFilter)
    LoggingSystem.bootstrap { label in DaemonLogHandler(label: label, levelSwitch: levelSwitch) }
    let logger = Logger(label: "crio")
    for warning in warnings { logger.warning("\(warning)") }

    do {
      let daemon = Daemon(
        config: config,
        logger: logger,
        levelSwitch: levelSwitch,
        reloadConfig: {
          let (fresh, warnings) = try options.loadConfig()
          for warning in warnings { logger.warning("\(warning)") }
          return fresh
        }
      )
      try await daemon.run()
    } catch {
      // One line that says what is wrong, never a stack trace.
      logger.critical("\(error)")
      throw ExitCode(1)
    }
  }
}

/// Prints a configuration error as one line a person can act on and exits 1:
/// never a stack trace.
func exitOnError<T>(_ body: () throws(ConfigError) -> T) throws(ExitCode) -> T {
  do {
    return try body()
  } catch {
    printToStandardError("crio: invalid configuration: \(error.description)\n")
    throw ExitCode(1)
  }
}
