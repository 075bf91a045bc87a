import ArgumentParser
import FoundationEssentials
import Server
import Support

#if canImport(Glibc)
import Glibc
#endif

/// `crio status`: asks a running daemon through the HTTP/1 inspection API
/// on its socket, as CRI-O's `crio status` does.
struct StatusCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "status",
    abstract: "Ask a running daemon for its info, configuration or a container.",
    subcommands: [Info.self, ConfigDump.self, Containers.self]
  )

  struct Connection: ParsableArguments {
    @Option(name: [.customShort("s"), .customLong("socket")], help: "The daemon's socket.")
    var socket = "/var/run/crio/crio.sock"

    func get(_ path: String) throws -> String {
      let response: (status: Int, body: String)
      do {
        response = try UnixHTTP.get(path, socket: socket)
      } catch {
        printToStandardError("crio status: \(error.message)")
        throw ExitCode(1)
      }
      guard response.status == 200 else {
        printToStandardError("crio status: \(path): HTTP \(response.status): \(response.body)")
        throw ExitCode(1)
      }
      return response.body
    }

    func decode<T: Decodable>(_ type: T.Type, from body: String, path: String) throws -> T {
      do {
        return try JSONDecoder().decode(T.self, from: Data(body.utf8))
      } catch {
        printToStandardError("crio status: \(path): cannot read the daemon's answer: \(error)")
        throw ExitCode(1)
      }
    }
  }

  struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Storage and cgroup facts (/info).", aliases: ["i"])
    @OptionGroup var connection: Connection
    func run() throws {
      let info = try connection.decode(CrioInfo.self, from: try connection.get("/info"), path: "/info")
      print(info.text, terminator: "")
    }
  }

  struct ConfigDump: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "config", abstract: "The running configuration as TOML (/config).", aliases: ["c"])
    @OptionGroup var connection: Connection
    func run() throws { print(try connection.get("/config"), terminator: "") }
  }

  struct Containers: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "One container (/containers/<id>).", aliases: ["container", "cs", "s"])
    @OptionGroup var connection: Connection
    @Option(name: [.customShort("i"), .long], help: "The container ID.") var id: String
    func validate() throws {
      guard !id.isEmpty else { throw ValidationError("the argument --id cannot be empty") }
    }
    func run() throws {
      let path = "/containers/\(id)"
      let info = try connection.decode(ContainerInfo.self, from: try connection.get(path), path: path)
      print(info.statusText, terminator: "")
    }
  }
}

/// `/info`, as CRI-O writes it.
struct CrioInfo: Decodable {
  struct IDMap: Decodable {
    var containerID: Int
    var hostID: Int
    var size: Int
    enum CodingKeys: String, CodingKey {
      case containerID = "container_id", hostID = "host_id", size
    }
  }
  struct IDMappings: Decodable {
    var uids: [IDMap]?
    var gids: [IDMap]?
  }
  var storageDriver: String
  var storageRoot: String
  var cgroupDriver: String
  var defaultIDMappings: IDMappings?
  enum CodingKeys: String, CodingKey {
    case storageDriver = "storage_driver", storageRoot = "storage_root", cgroupDriver = "cgroup_driver"
    case defaultIDMappings = "default_id_mappings"
  }

  /// CRI-O's `crio-status info` text.
  var text: String {
    func lines(_ maps: [IDMap]?) -> String {
      (maps ?? []).map { "  \($0.containerID):\($0.hostID):\($0.size)\n" }.joined()
    }
    return "cgroup driver: \(cgroupDriver)\nstorage driver: \(storageDriver)\nstorage root: \(storageRoot)\n"
      + "default GID mappings (format <container>:<host>:<size>):\n\(lines(defaultIDMappings?.gids))"
      + "default UID mappings (format <container>:<host>:<size>):\n\(lines(defaultIDMappings?.uids))"
  }
}
