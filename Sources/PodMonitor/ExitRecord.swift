#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// How a container's end is recorded, byte for byte as conmon records it,
/// so the daemon's exit monitor and its restart recovery read both alike.
public enum ExitRecord {
  /// A wait status as conmon reports it: the exit code, or 128 + n after signal n.
  public static func code(waitStatus status: Int32) -> Int32 {
    let signal = status & 0x7f
    return signal == 0 ? (status >> 8) & 0xff : 128 + signal
  }

  /// `<directory>/<id>` holding the code in decimal, no newline, written
  /// to a temporary file and renamed (glib's g_file_set_contents), so the
  /// daemon's inotify watch never reads a half-written file.
  public static func write(code: Int32, id: String, directory: String) throws(MonitorError) {
    try writeAtomically(directory + "/" + id, Array(String(code).utf8))
  }

  /// The marker conmon leaves in the bundle when the OOM killer struck.
  public static func markOOM(bundle: String) {
    try? writeAtomically(bundle + "/oom", [])
  }

  static func writeAtomically(_ path: String, _ bytes: [UInt8]) throws(MonitorError) {
    let temporary = path + ".tmp"
    let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw MonitorError("open \(temporary)") }
    let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
    close(fd)
    guard written == bytes.count, rename(temporary, path) == 0 else {
      let error = MonitorError("write \(path)")
      unlink(temporary)
      throw error
    }
  }
}

/// The OOM kill counter of a container's memory cgroup: conmon watches it
/// and writes the OOM marker when it grew while the container ran. Read
/// once the container is created (its cgroup is known from its init
/// process) and again when it exited (runc removes the cgroup only at
/// delete, so it is still there).
public struct OOMCounter: Sendable {
  /// The file with the `oom_kill` line: memory.events (v2) or memory.oom_control (v1).
  let file: String
  let baseline: Int64

  /// nil when the process's memory cgroup cannot be found.
  public init?(pid: Int32, cgroupRoot: String = "/sys/fs/cgroup") {
    guard let text = readText("/proc/\(pid)/cgroup") else { return nil }
    var found: String?
    for line in text.split(separator: "\n") {
      let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
      guard fields.count == 3 else { continue }
      if fields[0] == "0" && fields[1].isEmpty {
        found = cgroupRoot + fields[2] + "/memory.events"
      } else if fields[1].split(separator: ",").contains("memory") {
        found = cgroupRoot + "/memory" + fields[2] + "/memory.oom_control"
        break
      }
    }
    guard let found, let count = Self.count(in: found) else { return nil }
    file = found
    baseline = count
  }

  /// Whether the OOM killer struck in the cgroup since the baseline.
  public var struck: Bool { (Self.count(in: file) ?? baseline) > baseline }

  static func count(in file: String) -> Int64? {
    guard let text = readText(file) else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix("oom_kill ") {
      return Int64(line.dropFirst("oom_kill ".count))
    }
    return nil
  }
}

/// A small file's text (proc and cgroup files), nil when it cannot be read.
func readText(_ path: String) -> String? {
  let fd = open(path, O_RDONLY | O_CLOEXEC)
  guard fd >= 0 else { return nil }
  defer { close(fd) }
  var bytes: [UInt8] = []
  var chunk = [UInt8](repeating: 0, count: 4096)
  while true {
    let got = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
    if got < 0 && errno == EINTR { continue }
    guard got > 0 else { break }
    bytes += chunk[..<got]
  }
  return String(decoding: bytes, as: UTF8.self)
}
