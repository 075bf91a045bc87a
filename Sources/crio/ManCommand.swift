import ArgumentParser
import BuildInfo
import Config

/// `crio man`: the manual pages, crio(8) from the command line's own help
/// and crio.conf(5) from the configuration schema, so neither can drift
/// from what the binary accepts. The package installs both.
struct ManCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "man",
    abstract: "Print a manual page in roff: crio(8), or crio.conf(5) with --section 5.")

  @Option(help: "8 for crio(8), 5 for crio.conf(5).") var section = 8

  func validate() throws {
    guard section == 8 || section == 5 else { throw ValidationError("--section is 8 (crio) or 5 (crio.conf)") }
  }

  func run() throws {
    let date = String(BuildInfo.gitCommitDate.prefix(10))
    if section == 5 {
      print(ConfigLoader(systemdIsRunning: true).defaults().renderManPage(version: ProjectVersion.version, date: date), terminator: "")
    } else {
      print(Self.commandPage(date: date), terminator: "")
    }
  }

  /// The commands a user runs, in the order the page lists them.
  static let documented: [(name: String, command: any ParsableCommand.Type)] = [
    ("config", ConfigCommand.self), ("version", VersionCommand.self), ("wipe", WipeCommand.self), ("status", StatusCommand.self),
    ("status info", StatusCommand.Info.self), ("status config", StatusCommand.ConfigDump.self),
    ("status containers", StatusCommand.Containers.self), ("install-cni-config", InstallCNIConfigCommand.self),
    ("completion", CompletionCommand.self), ("man", ManCommand.self),
  ]

  static func commandPage(date: String) -> String {
    func help(_ command: any ParsableCommand.Type) -> String {
      ".nf\n" + Roff.escape(Crio.helpMessage(for: command, columns: 78)) + "\n.fi\n"
    }
    var page = """
      .TH CRIO 8 "\(date)" "crio \(Roff.escape(ProjectVersion.version))" "System Manager's Manual"
      .SH NAME
      crio \\- \(Roff.escape(Crio.configuration.abstract))
      .SH SYNOPSIS
      \\fBcrio\\fR [\\fIOPTIONS\\fR]
      .br
      \\fBcrio\\fR \\fICOMMAND\\fR [\\fIOPTIONS\\fR]
      .SH DESCRIPTION
      Without a command, \\fBcrio\\fR runs the daemon: it serves the Kubernetes Container Runtime
      Interface (runtime.v1, gRPC) and CRI-O's HTTP inspection API on a Unix socket
      (\\fI/var/run/crio/crio.sock\\fR), pulls and stores OCI images, and runs pods and containers with
      an OCI runtime (runc) monitored by conmon, networked with CNI plugins. Its configuration is
      described in \\fBcrio.conf\\fR(5); the options below override the files. SIGHUP reloads the log level,
      SIGTERM and SIGINT stop the daemon after in-flight calls end (10 s at most); containers keep running.
      .SH OPTIONS

      """
    page += help(DaemonCommand.self)
    page += ".SH COMMANDS\n"
    for (name, command) in documented {
      page += ".SS \(Roff.escape(name))\n" + help(command)
    }
    page += """
      .SH FILES
      .TP
      \\fI/etc/crio/crio.conf\\fR, \\fI/etc/crio/crio.conf.d/\\fR
      Configuration, see \\fBcrio.conf\\fR(5).
      .TP
      \\fI/var/run/crio/crio.sock\\fR
      The CRI socket (root only).
      .SH SEE ALSO
      \\fBcrio.conf\\fR(5), \\fBcrictl\\fR(1), \\fBrunc\\fR(8), \\fBconmon\\fR(8)

      """
    return page
  }
}

/// `crio completion [bash|zsh|fish]`: the shell completion script, as
/// CRI-O's `crio completion` prints it.
struct CompletionCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "completion",
    abstract: "Print the shell completion script for bash (default), zsh or fish.")

  @Argument(help: "bash, zsh or fish.") var shell = "bash"

  func run() throws {
    guard let kind = CompletionShell(rawValue: shell) else {
      throw ValidationError("no completion for \"\(shell)\": bash, zsh or fish")
    }
    print(Crio.completionScript(for: kind))
  }
}
