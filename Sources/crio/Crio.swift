import ArgumentParser

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
  static func main() async {
    let names = Set(configuration.subcommands.map { $0._commandName })
    do {
      await main(try GlobalArguments(subcommands: names).rewrite(Array(CommandLine.arguments.dropFirst())))
    } catch {
      exit(withError: ValidationError(error.message))
    }
  }
}
