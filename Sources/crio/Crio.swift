import ArgumentParser

/// `crio`: with no subcommand it runs the daemon, as CRI-O's binary does.
@main
struct Crio: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "crio",
    abstract: "A Kubernetes container runtime (CRI) daemon, a drop-in for CRI-O.",
    subcommands: [
      DaemonCommand.self, ConfigCommand.self, VersionCommand.self, StatusCommand.self, InstallCNIConfigCommand.self,
      CompletionCommand.self, ManCommand.self, PinnsCommand.self,
    ],
    defaultSubcommand: DaemonCommand.self
  )
}
