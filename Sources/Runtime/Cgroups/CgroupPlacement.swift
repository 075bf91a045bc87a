import Support

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension CgroupLayout {
  /// Puts `pid` into the cgroup at `relativePath` in every hierarchy (each v1
  /// hierarchy and the hybrid cgroup2 mount, or the v2 tree), making it where
  /// missing. A new v1 cpuset cgroup starts with no CPUs and refuses tasks, so
  /// it takes its parent's first, as runc does for containers.
  public func place(pid: Int32, inCgroup relativePath: String) throws(CgroupError) {
    let path = try CgroupPath.normalize(relativePath)
    guard path != "/" else { throw .invalidPath(relativePath, reason: "a process is not moved to the hierarchy root") }
    for mount in hierarchyMounts {
      let directory = mount + path
      do throws(SystemError) {
        try Files.makeDirectories(directory, mode: 0o755)
        if version == .v1, mount == controllerMounts["cpuset"] {
          try Self.inheritCpuset(directory)
        }
        try Files.write(directory + "/cgroup.procs", "\(pid)\n")
      } catch {
        throw .system(error)
      }
    }
  }

  /// cpuset.cpus and cpuset.mems of each level from the parent down, where empty.
  private static func inheritCpuset(_ directory: String) throws(SystemError) {
    guard let slash = directory.lastIndex(of: "/") else { return }
    let parent = String(directory[..<slash])
    for file in ["cpuset.cpus", "cpuset.mems"] {
      let own = (try? Files.read(directory + "/" + file))?.trimmingWhitespace() ?? ""
      guard own.isEmpty else { continue }
      var inherited = (try? Files.read(parent + "/" + file))?.trimmingWhitespace() ?? ""
      if inherited.isEmpty, Files.kind(of: parent + "/" + file) != .missing {
        try inheritCpuset(parent)
        inherited = (try? Files.read(parent + "/" + file))?.trimmingWhitespace() ?? ""
      }
      try Files.write(directory + "/" + file, String(inherited))
    }
  }
}
