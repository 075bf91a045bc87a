import ArgumentParser
import Config
import Logging
import Server
import Support

/// `crio wipe`: CRI-O's command to remove the containers of a previous boot
/// (and the images of a previous version) before the daemon starts, for
/// nodes with `internal_wipe = false`; `--force` wipes whatever the
/// version files say.
struct WipeCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "wipe",
    abstract: "Wipe the containers and pods (and images after an upgrade) the version files say are stale.",
    discussion: """
      With internal_wipe = true (the default) the daemon does this at start and the command has \
      nothing to do, unless the last stop was unclean after a reboot (then every pod, container and \
      image goes) or --force is given. Takes the global options (see crio --help).
      """
  )

  @OptionGroup var options: GlobalOptions

  @Flag(name: [.customShort("f"), .long], help: "Wipe the containers, pods and their images without checking the version files.")
  var force = false

  func run() async throws {
    let options = self.options
    let (config, warnings) = try exitOnError { () throws(ConfigError) in try options.loadConfig() }
    let levelSwitch = LogLevelSwitch(LogLevels.swiftLog(config.runtime.logLevel))
    LoggingSystem.bootstrap { label in DaemonLogHandler(label: label, levelSwitch: levelSwitch) }
    let logger = Logger(label: "crio")
    for warning in warnings { logger.warning("\(warning)") }
    do {
      print(try await OfflineWipe.run(config: config, force: force, logger: logger))
    } catch {
      printToStandardError("crio wipe: \(error)\n")
      throw ExitCode(1)
    }
  }
}
