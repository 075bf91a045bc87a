/// How container cgroups are named: directly in cgroupfs, or as systemd units
/// (CRI-O's `cgroup_manager`).
public enum CgroupDriver: String, Sendable, Hashable {
  case cgroupfs
  case systemd
}

/// Paths of cgroups inside a hierarchy, always written "/a/b" ("/" for the root).
public enum CgroupPath {
  /// `path` with a leading "/", without empty components or a trailing "/";
  /// "." and ".." components and control characters are refused.
  public static func normalize(_ path: String) throws(CgroupError) -> String {
    if path.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
      throw .invalidPath(path, reason: "control characters are not allowed")
    }
    var components: [Substring] = []
    for component in path.split(separator: "/", omittingEmptySubsequences: true) {
      if component == "." || component == ".." {
        throw .invalidPath(path, reason: "\".\" and \"..\" components are not allowed")
      }
      components.append(component)
    }
    return "/" + components.joined(separator: "/")
  }
}

/// Cgroup names for pods and containers the way CRI-O makes them.
///
/// - cgroupfs: the parent is a cgroup path (kubelet sends e.g.
///   "/kubepods/burstable/pod<uid>"; empty means "/crio"); the container's
///   cgroup is `<parent>/crio-<id>`, and that is also the OCI `cgroupsPath`.
/// - systemd: the parent is a slice (kubelet sends e.g.
///   "kubepods-burstable-pod<uid>.slice", or the expanded path whose last
///   component is that slice; empty means "system.slice"); the OCI
///   `cgroupsPath` is `<slice>:crio:<id>`, which runc turns into the unit
///   `crio-<id>.scope` under the slice's expanded path.
public enum CgroupNaming {
  /// CRI-O's prefix of container cgroups and scopes.
  public static let prefix = "crio"
  public static let defaultCgroupfsParent = "/crio"
  public static let defaultSystemdParent = "system.slice"

  /// The value for the OCI spec's `linux.cgroupsPath`.
  public static func ociCgroupsPath(driver: CgroupDriver, parent: String, containerID: String) throws(CgroupError)
    -> String
  {
    try validate(containerID: containerID)
    switch driver {
    case .cgroupfs:
      let parent = try cgroupfsParent(parent)
      return (parent == "/" ? "" : parent) + "/" + prefix + "-" + containerID
    case .systemd:
      return try systemdSlice(parent) + ":" + prefix + ":" + containerID
    }
  }

  /// Where the container's cgroup is inside each hierarchy ("/" + ...).
  public static func filesystemPath(driver: CgroupDriver, parent: String, containerID: String) throws(CgroupError)
    -> String
  {
    switch driver {
    case .cgroupfs:
      return try ociCgroupsPath(driver: .cgroupfs, parent: parent, containerID: containerID)
    case .systemd:
      try validate(containerID: containerID)
      let slice = try expandSlice(try systemdSlice(parent))
      return (slice == "/" ? "" : slice) + "/" + prefix + "-" + containerID + ".scope"
    }
  }

  /// Where the pod's parent cgroup is inside each hierarchy.
  public static func parentFilesystemPath(driver: CgroupDriver, parent: String) throws(CgroupError) -> String {
    switch driver {
    case .cgroupfs: try cgroupfsParent(parent)
    case .systemd: try expandSlice(try systemdSlice(parent))
    }
  }

  /// A cgroupfs parent, validated and normalized; "" gives the default.
  public static func cgroupfsParent(_ parent: String) throws(CgroupError) -> String {
    if parent.isEmpty { return defaultCgroupfsParent }
    try checkCharacters(parent)
    guard parent.hasPrefix("/") else { throw .invalidParent(parent, reason: "a cgroupfs parent must be absolute") }
    let normalized: String
    do { normalized = try CgroupPath.normalize(parent) } catch {
      throw .invalidParent(parent, reason: "\".\" and \"..\" components are not allowed")
    }
    if normalized.split(separator: "/").last?.hasSuffix(".slice") == true {
      throw .invalidParent(
        parent, reason: "cri-o is configured with the cgroupfs cgroup manager, but received a systemd slice as parent")
    }
    return normalized
  }

  /// The slice name of a systemd parent (its last path component); "" gives
  /// the default.
  public static func systemdSlice(_ parent: String) throws(CgroupError) -> String {
    if parent.isEmpty { return defaultSystemdParent }
    try checkCharacters(parent)
    let components = parent.split(separator: "/")
    if components.contains(where: { $0 == "." || $0 == ".." }) {
      throw .invalidParent(parent, reason: "\".\" and \"..\" components are not allowed")
    }
    guard let last = components.last, last.hasSuffix(".slice") else {
      throw .invalidParent(
        parent, reason: "cri-o is configured with the systemd cgroup manager, but did not receive a slice as parent")
    }
    let slice = String(last)
    _ = try expandSlice(slice)
    return slice
  }

  /// systemd's slice expansion (runc's `ExpandSlice`): "a-b-c.slice" becomes
  /// "/a.slice/a-b.slice/a-b-c.slice"; "-.slice" is the root "/".
  public static func expandSlice(_ slice: String) throws(CgroupError) -> String {
    let suffix = ".slice"
    guard slice.hasSuffix(suffix), slice.count > suffix.count, !slice.contains("/") else {
      throw .invalidParent(slice, reason: "not a systemd slice name")
    }
    let name = slice.dropLast(suffix.count)
    if name == "-" { return "/" }
    var path = ""
    var prefix = ""
    for component in name.split(separator: "-", omittingEmptySubsequences: false) {
      guard !component.isEmpty else {
        throw .invalidParent(slice, reason: "empty component in slice name (leading, trailing or double \"-\")")
      }
      path += "/" + prefix + component + suffix
      prefix += component + "-"
    }
    return path
  }

  /// IDs become file names: letters, digits, "-", "_" and "." only.
  static func validate(containerID id: String) throws(CgroupError) {
    guard !id.isEmpty, id != ".", id != "..",
      id.unicodeScalars.allSatisfy({ scalar in
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9", "-", "_", ".": true
        default: false
        }
      })
    else { throw .invalidContainerID(id) }
  }

  private static func checkCharacters(_ parent: String) throws(CgroupError) {
    if parent.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
      throw .invalidParent(parent, reason: "control characters are not allowed")
    }
    if parent.contains(":") {
      throw .invalidParent(parent, reason: "\":\" is not allowed")
    }
  }
}
