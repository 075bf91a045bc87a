import ArgumentParser
import Config
import PodNetwork
import Support

/// `crio install-cni-config`: the packaging step that gives a fresh node a
/// working pod network (CRI-O ships contrib/cni/10-crio-bridge.conflist):
/// writes the default bridge network into `network_dir` unless the directory
/// already holds a configuration, which is never overwritten.
struct InstallCNIConfigCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "install-cni-config",
    abstract: "Write the default CNI network (bridge cni0, host-local 10.85.0.0/16, portmap) unless one exists."
  )

  @OptionGroup var options: GlobalOptions

  @Option(help: "Subnet of the default network.") var subnet = CNIDefaultConfig.subnet

  func run() throws {
    let (config, _) = try exitOnError { () throws(ConfigError) in try options.loadConfig() }
    let directory = config.network.networkDir
    do {
      if let written = try CNIDefaultConfig.installIfMissing(dir: directory, subnet: subnet) {
        print("wrote \(written)")
      } else {
        print("\(directory) already has a network configuration; left as it is")
      }
    } catch {
      printToStandardError("crio install-cni-config: \(error)\n")
      throw ExitCode(1)
    }
  }
}
