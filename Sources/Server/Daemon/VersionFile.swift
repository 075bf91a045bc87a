#if canImport(Glibc)
import Glibc
#endif
import BuildInfo
import CSupport
import Support

/// CRI-O's version files (internal/version): `version_file` lives on tmpfs,
/// so its absence at start means the node rebooted since the last daemon
/// ran (its containers and pods are gone or stale); `version_file_persist`
/// survives reboots, so a different major.minor in it means the daemon was
/// upgraded or downgraded (its images may be stale too). Both hold the
/// version as a JSON string, `"1.2.3"`, as CRI-O's semver marshals it.
enum VersionFile {
  /// Why the file asks for a wipe, or nil when it does not: missing,
  /// unreadable, malformed or another major.minor. An unset path ("")
  /// never asks.
  static func wipeReason(_ path: String, current: String = ProjectVersion.version) -> String? {
    guard !path.isEmpty else { return nil }
    let text: String
    do {
      text = try Files.read(path)
    } catch {
      return "\(path): \(error.reason)"
    }
    guard let old = majorMinor(text.filter { $0 != "\"" && !$0.isWhitespace }) else {
      return "\(path): malformed version \(text.debugDescription)"
    }
    guard let new = majorMinor(current) else { return "version \(current) malformed" }
    return old == new ? nil : "\(path): version \(old.0).\(old.1) was running, this is \(new.0).\(new.1)"
  }

  /// Writes the running version, replacing the file atomically (a crash
  /// leaves the old or the new one, never half of one).
  static func write(_ path: String, version: String = ProjectVersion.version) throws(SystemError) {
    guard !path.isEmpty else { return }
    let parent = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
    try Files.makeDirectories(parent.isEmpty ? "/" : parent, mode: 0o755)
    let staging = path + ".tmp"
    try Files.write(staging, "\"\(version)\"")
    guard rename(staging, path) == 0 else { throw SystemError("rename", path: path) }
    DurableFiles.syncParent(of: path)
  }

  /// (major, minor) of a semver, build and pre-release parts ignored.
  static func majorMinor(_ version: String) -> (Int, Int)? {
    let core = version.prefix { $0 != "+" && $0 != "-" }
    let parts = core.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count == 3, let major = Int(parts[0]), let minor = Int(parts[1]), Int(parts[2]) != nil else { return nil }
    return (major, minor)
  }
}

/// fsync helpers for the files whose presence is the message.
enum DurableFiles {
  /// fsync on a file's directory, so its creation or removal survives a crash.
  static func syncParent(of path: String) {
    let parent = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
    let fd = open(parent.isEmpty ? "/" : parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard fd >= 0 else { return }
    fsync(fd)
    close(fd)
  }

  /// syncfs on the file system holding `path`: everything written there
  /// reaches the disk before what is written next.
  static func syncFileSystem(of path: String) {
    let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard fd >= 0 else { return }
    crio_syncfs(fd)
    close(fd)
  }
}
