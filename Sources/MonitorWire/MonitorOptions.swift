/// What the daemon tells a pod's monitor when it starts it.
public struct MonitorOptions: Sendable, Equatable {
  /// The pod's run directory: the socket and pid file go there.
  public var directory: String
  public var podID: String
  /// The OCI runtime (runc) and its `--root`.
  public var runtime: String
  public var runtimeRoot: String
  /// `container_exits_dir` and `container_attach_socket_dir`.
  public var exitsDirectory: String
  public var attachDirectory: String
  /// `log_size_max`; zero or negative for no limit.
  public var logSizeMax: Int64 = -1
  /// `no_pivot`.
  public var noPivot = false

  public init(directory: String, podID: String, runtime: String, runtimeRoot: String, exitsDirectory: String, attachDirectory: String) {
    self.directory = directory
    self.podID = podID
    self.runtime = runtime
    self.runtimeRoot = runtimeRoot
    self.exitsDirectory = exitsDirectory
    self.attachDirectory = attachDirectory
  }

  /// The command line the daemon starts `crio-monitor` with.
  public var arguments: [String] {
    var arguments = [
      "--directory", directory, "--pod", podID, "--runtime", runtime, "--runtime-root", runtimeRoot,
      "--exits-dir", exitsDirectory, "--attach-dir", attachDirectory, "--log-size-max", String(logSizeMax),
    ]
    if noPivot { arguments.append("--no-pivot") }
    return arguments
  }

  public init(arguments: [String]) throws(MonitorOptionsError) {
    var values: [String: String] = [:]
    var noPivot = false
    var index = 0
    while index < arguments.count {
      let flag = arguments[index]
      if flag == "--no-pivot" {
        noPivot = true
        index += 1
        continue
      }
      guard flag.hasPrefix("--"), index + 1 < arguments.count else { throw MonitorOptionsError("unexpected argument \(flag)") }
      values[flag] = arguments[index + 1]
      index += 2
    }
    func value(_ flag: String) throws(MonitorOptionsError) -> String {
      guard let value = values.removeValue(forKey: flag), !value.isEmpty else { throw MonitorOptionsError("\(flag) is required") }
      return value
    }
    self.init(
      directory: try value("--directory"), podID: try value("--pod"), runtime: try value("--runtime"),
      runtimeRoot: try value("--runtime-root"), exitsDirectory: try value("--exits-dir"), attachDirectory: try value("--attach-dir"))
    if let limit = values.removeValue(forKey: "--log-size-max") {
      guard let parsed = Int64(limit) else { throw MonitorOptionsError("--log-size-max \(limit) is not a number") }
      logSizeMax = parsed
    }
    self.noPivot = noPivot
    if let unknown = values.keys.sorted().first { throw MonitorOptionsError("unknown option \(unknown)") }
  }
}

/// A command line `crio-monitor` cannot use.
public struct MonitorOptionsError: Error, Sendable, CustomStringConvertible {
  public let description: String
  init(_ description: String) { self.description = description }
}
