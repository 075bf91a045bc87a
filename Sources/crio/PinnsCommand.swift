import ArgumentParser
import PodNetwork
import Support

/// `crio pinns`: the helper the daemon re-executes itself as to create and
/// pin a pod's namespaces (CRI-O ships this as the separate `pinns` binary).
struct PinnsCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "pinns",
    abstract: "Create a pod's namespaces and pin them to files (internal helper).",
    shouldDisplay: false
  )

  @Option(help: "Directory holding netns/, ipcns/ and utsns/.") var dir: String
  @Option(help: "File name of the pins (the pod ID).") var name: String
  @Flag(help: "A new network namespace.") var net = false
  @Flag(help: "A new IPC namespace.") var ipc = false
  @Flag(help: "A new UTS namespace.") var uts = false
  @Option(help: "Hostname in the new UTS namespace.") var hostname: String?
  @Option(help: "A namespaced sysctl key=value, repeatable.") var sysctl: [String] = []
  @Option(name: .customLong("uid-map"), help: "container:host:length of a new user namespace, repeatable.") var uidMap: [String] = []
  @Option(name: .customLong("gid-map"), help: "container:host:length of a new user namespace, repeatable.") var gidMap: [String] = []

  func run() throws {
    let kinds = [(net, PinRequest.Kind.network), (ipc, .ipc), (uts, .uts)].filter(\.0).map(\.1)
    guard !kinds.isEmpty else { throw ValidationError("nothing to pin: give --net, --ipc and/or --uts") }
    guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
      throw ValidationError("--name must be a plain file name")
    }
    let sysctls = try sysctl.map { entry in
      guard let equals = entry.firstIndex(of: "=") else { throw ValidationError("--sysctl expects key=value, got \(entry)") }
      return (key: String(entry[..<equals]), value: String(entry[entry.index(after: equals)...]))
    }
    var userNamespace: UserNamespaceMappings?
    if !uidMap.isEmpty || !gidMap.isEmpty {
      func ranges(_ entries: [String], _ option: String) throws -> [IDMapRange] {
        try entries.map { entry in
          guard let range = IDMapRange(argument: entry) else { throw ValidationError("--\(option) expects container:host:length, got \(entry)") }
          return range
        }
      }
      do {
        userNamespace = try UserNamespaceMappings(uids: ranges(uidMap, "uid-map"), gids: ranges(gidMap, "gid-map"))
      } catch let error as NamespaceError {
        throw ValidationError(error.description)
      }
    }
    do {
      _ = try Pinning.pinInThisProcess(
        PinRequest(
          name: name, directory: dir, kinds: kinds, hostname: hostname, sysctls: sysctls, userNamespace: userNamespace))
    } catch {
      printToStandardError("crio pinns: \(error)")
      throw ExitCode(1)
    }
  }
}
