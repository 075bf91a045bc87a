import Support

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension CgroupLayout {
  /// Removes the cgroup at `relativePath` (and any child cgroups, deepest
  /// first) from every hierarchy: each v1 hierarchy (plus the hybrid cgroup2
  /// mount) or the v2 tree. A cgroup already gone is fine; one still busy
  /// (EBUSY: a task has not left yet) is retried for about 600 ms. The
  /// hierarchy root itself is never removed.
  public func removeCgroup(relativePath: String) async throws(CgroupError) {
    let path = try CgroupPath.normalize(relativePath)
    guard path != "/" else { throw .invalidPath(relativePath, reason: "the hierarchy root cannot be removed") }
    var firstError: SystemError?
    for mount in hierarchyMounts {
      do {
        try await Self.removeTree(mount + path)
      } catch {
        if firstError == nil { firstError = error }
      }
    }
    if let firstError { throw .system(firstError) }
  }

  /// rmdir of `directory` after its sub-directories (cgroup files cannot be
  /// unlinked, and rmdir of a cgroup ignores them; child cgroups must go first).
  static func removeTree(_ directory: String) async throws(SystemError) {
    var info = stat()
    guard lstat(directory, &info) == 0 else {
      if errno == ENOENT { return }
      throw SystemError("lstat", path: directory)
    }
    guard info.st_mode & S_IFMT == S_IFDIR else {
      throw SystemError(operation: "remove cgroup", path: directory, code: ENOTDIR)
    }
    for name in (try? Files.list(directory)) ?? [] {
      let child = directory + "/" + name
      var childInfo = stat()
      if lstat(child, &childInfo) == 0, childInfo.st_mode & S_IFMT == S_IFDIR {
        try await removeTree(child)
      }
    }
    var delay = Duration.milliseconds(10)
    var attempt = 0
    while rmdir(directory) != 0 {
      let code = errno
      if code == ENOENT { return }
      if code == EINTR { continue }
      attempt += 1
      guard code == EBUSY, attempt < 7 else {
        throw SystemError(operation: "rmdir", path: directory, code: code)
      }
      try? await Task.sleep(for: delay)
      delay *= 2
    }
  }
}
