import Support

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Child process helpers for the runtime. Spawning itself is
/// `Support.Processes.spawn` (descriptors passed at fixed numbers, a chosen
/// environment, every other descriptor closed, default signal dispositions).
enum ChildProcess {
  /// Whether `pid` names a process that has not ended (a zombie counts as ended).
  static func isAlive(_ pid: pid_t) -> Bool {
    guard pid > 0, kill(pid, 0) == 0 || errno == EPERM else { return false }
    guard let stat = try? Files.read("/proc/\(pid)/stat"),
      let close = stat.lastIndex(of: ")")
    else { return false }
    let state = String(stat[stat.index(after: close)...]).trimmed.first
    return state != "Z" && state != "X"
  }
}
