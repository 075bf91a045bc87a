import Support

#if canImport(Glibc)
import Glibc
#endif

/// Runs one plugin binary: configuration on stdin, result on stdout.
enum CNIPluginProcess {
  struct Outcome {
    /// nil when the plugin was killed for running too long.
    var status: Int32?
    var stdout: String
    var stderr: String
  }

  static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

  /// The daemon's environment without CNI_* variables, plus `variables`
  /// (as libcni does); PATH is added when the daemon has none, since
  /// plugins run iptables, ip and the like.
  static func environment(adding variables: [(String, String)]) -> [String] {
    var inherited: [String] = []
    if var pointer = Optional(environ) {
      while let entry = pointer.pointee {
        let text = String(cString: entry)
        if !text.hasPrefix("CNI_") { inherited.append(text) }
        pointer = pointer.advanced(by: 1)
      }
    }
    if !inherited.contains(where: { $0.hasPrefix("PATH=") }) { inherited.append("PATH=" + defaultPath) }
    return inherited + variables.map { "\($0.0)=\($0.1)" }
  }

  static func run(_ path: String, stdin: String, environment: [String], timeout: Duration) async throws(SystemError) -> Outcome {
    let dir = try Files.makeTemporaryDirectory(prefix: "crio-cni")
    defer { Files.removeTree(dir) }
    try Files.write(dir + "/in", stdin, mode: 0o600)
    let input = open(dir + "/in", O_RDONLY | O_CLOEXEC)
    guard input >= 0 else { throw SystemError("open", path: dir + "/in") }
    let pid: pid_t
    do {
      defer { close(input) }
      pid = try Processes.spawn(
        path, [], stdout: dir + "/out", stderr: dir + "/err", environment: environment, passing: [(input, 0)])
    }
    // Waited for outside the caller's task: a cancelled pod creation must
    // not abandon a plugin half way (its DEL would race it), and the
    // timeout bounds the wait anyway.
    let status = await Task.detached { await Processes.wait(pid, timeout: timeout) }.value
    if status == nil {
      kill(pid, SIGKILL)
      _ = await Task.detached { await Processes.wait(pid, timeout: .seconds(10)) }.value
    }
    return Outcome(status: status, stdout: try Files.read(dir + "/out"), stderr: try Files.read(dir + "/err"))
  }
}
