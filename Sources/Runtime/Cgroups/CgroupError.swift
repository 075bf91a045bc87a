import Support

/// What went wrong naming, reading or removing a cgroup.
public enum CgroupError: Error, Sendable, Equatable, CustomStringConvertible {
  /// /sys/fs/cgroup is neither a cgroup2 mount nor a directory of v1 hierarchies.
  case noCgroupFilesystem(String)
  /// A CRI `cgroup_parent` (or another cgroup path) this daemon refuses.
  case invalidParent(String, reason: String)
  /// A container or sandbox ID that cannot be part of a cgroup name.
  case invalidContainerID(String)
  /// A path inside the hierarchy that names no cgroup (or escapes it).
  case invalidPath(String, reason: String)
  /// The cgroup does not exist (any more): the container is gone.
  case notFound(path: String)
  /// A `linux.resources.unified` key or value that cannot be written.
  case invalidUnified(key: String, reason: String)
  /// Resources that cannot be expressed on this cgroup version.
  case invalidResources(String)
  /// A file operation failed.
  case system(SystemError)

  public var description: String {
    switch self {
    case .noCgroupFilesystem(let reason): "no cgroup filesystem: \(reason)"
    case .invalidParent(let parent, let reason): "invalid cgroup parent \"\(parent)\": \(reason)"
    case .invalidContainerID(let id): "invalid container ID for a cgroup name: \"\(id)\""
    case .invalidPath(let path, let reason): "invalid cgroup path \"\(path)\": \(reason)"
    case .notFound(let path): "cgroup \(path) does not exist"
    case .invalidUnified(let key, let reason): "invalid unified cgroup resource \"\(key)\": \(reason)"
    case .invalidResources(let reason): "invalid cgroup resources: \(reason)"
    case .system(let error): "\(error)"
    }
  }
}
