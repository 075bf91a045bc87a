import ArgumentParser
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
  }

  struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Storage and cgroup facts (/info).")
    @OptionGroup var connection: Connection
    func run() throws { print(try connection.get("/info")) }
  }

  struct ConfigDump: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "config", abstract: "The running configuration (/config).")
    @OptionGroup var connection: Connection
    func run() throws { print(try connection.get("/config"), terminator: "") }
  }

  struct Containers: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "One container (/containers/<id>).")
    @OptionGroup var connection: Connection
    @Option(help: "The container ID.") var id: String
    func run() throws { print(try connection.get("/containers/\(id)")) }
  }
}
