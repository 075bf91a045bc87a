/// Why CDI devices cannot be given to a container.
public enum CDIError: Error, Sendable, Equatable, CustomStringConvertible {
  /// A name that is not `vendor.com/class=name` (the request's fault).
  case invalidName(String, reason: String)
  /// Names no readable spec defines (or that two specs of one directory
  /// both define), with what went wrong reading the spec directories.
  case unresolvable([String], problems: [String])
  /// A device node of a spec that the host does not have as described.
  case hostDevice(String, reason: String)

  public var description: String {
    switch self {
    case .invalidName(let name, let reason):
      "invalid CDI device name \(String(reflecting: name)): \(reason)"
    case .unresolvable(let names, let problems):
      "unresolvable CDI devices \(names.joined(separator: ", ")): no spec in cdi_spec_dirs defines them"
        + (problems.isEmpty ? "" : " (spec problems: \(problems.joined(separator: "; ")))")
    case .hostDevice(let path, let reason):
      "CDI device node \(path): \(reason)"
    }
  }
}

/// Why OCI hooks cannot be read or matched.
public enum HookError: Error, Sendable, Equatable, CustomStringConvertible {
  /// A hook file that containers/common would not load.
  case invalidFile(String, reason: String)
  /// A hook whose `when.commands` cannot be checked (a process without args).
  case matching(String, reason: String)

  public var description: String {
    switch self {
    case .invalidFile(let path, let reason): "hook file \(path): \(reason)"
    case .matching(let name, let reason): "matching hook \(String(reflecting: name)): \(reason)"
    }
  }
}
