/// Why the daemon could not start or stopped; each message says what to do.
public enum DaemonError: Error, Sendable, CustomStringConvertible {
  case alreadyRunning(path: String)
  case socket(path: String, reason: String)
  case directory(path: String, reason: String)
  /// A version or clean shutdown file cannot be written or removed.
  case stateFile(path: String, reason: String)
  /// The metrics endpoint of `[crio.metrics]` cannot be served.
  case metrics(String)
  /// A configured feature this daemon does not have; the message names the key.
  case unsupported(String)
  /// A file of a configured directory (e.g. a hook of `hooks_dir`) that cannot be used.
  case configuredFile(String)

  public var description: String {
    switch self {
    case .alreadyRunning(let path):
      "another runtime daemon is already serving \(path); stop it first, or start this one with a different --listen path"
    case .socket(let path, let reason):
      "cannot listen on \(path): \(reason)"
    case .directory(let path, let reason):
      "cannot create directory \(path): \(reason)"
    case .stateFile(let path, let reason):
      "\(path): \(reason); check the directory (version_file, version_file_persist, clean_shutdown_file)"
    case .metrics(let reason), .unsupported(let reason), .configuredFile(let reason):
      reason
    }
  }
}
