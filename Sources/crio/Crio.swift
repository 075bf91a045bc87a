import ArgumentParser

#if canImport(Glibc)
import Glibc
#endif

/// `crio`: with no subcommand it runs the daemon, as CRI-O's binary does.
@main
struct Crio: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "crio",
    abstract: "A Kubernetes container runtime (CRI) daemon, a drop-in for CRI-O.",
    discussion: GlobalFlag.helpText,
    subcommands: [
      DaemonCommand.self, ConfigCommand.self, VersionCommand.self, StatusCommand.self, WipeCommand.self,
      InstallCNIConfigCommand.self, CompletionCommand.self, ManCommand.self, PinnsCommand.self,
    ],
    defaultSubcommand: DaemonCommand.self
  )

  /// Global flags may stand before or after the subcommand (see
  /// `GlobalArguments`); ArgumentParser gets the rewritten line.
  ///
  /// The command runs as a detached task on the global executor (not the
  /// main actor, whose queue only the main thread would drain) while the main
  /// thread, every signal blocked (the daemon's signal sources take them on
  /// other threads, as before), sleeps until the process exits. An `async`
  /// main would end the main thread with dispatch_main's pthread_exit,
  /// which unwinds it: the unwinder's search of the binary's unwind tables
  /// (`.eh_frame_hdr`, `.eh_frame`) kept 0.8 MiB of them resident in every
  /// idle daemon.
  static func main() {
    let names = Set(configuration.subcommands.map { $0._commandName })
    let arguments: [String]
    do {
      arguments = try GlobalArguments(subcommands: names).rewrite(Array(CommandLine.arguments.dropFirst()))
    } catch {
      exit(withError: ValidationError(error.message))
    }
    Task.detached {
      await main(arguments)
      Glibc.exit(0)
    }
    var everySignal = sigset_t()
    sigfillset(&everySignal)
    pthread_sigmask(SIG_BLOCK, &everySignal, nil)
    while true { pause() }
  }
}
