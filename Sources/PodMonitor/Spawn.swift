import CMonitor
import CSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Starts runc. The daemon's `Support.Processes` is not linked here: it
/// brings Dispatch, and the monitor is meant to be Glibc and the standard
/// library alone. `stdio` are the child's descriptors 0, 1, 2; every other
/// descriptor is closed in it (no pipe end of another container leaks into
/// runc and then into a container).
enum Spawn {
  static func run(_ executable: String, _ arguments: [String], stdio: (Int32, Int32, Int32)) throws(MonitorError) -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    // Moved above 2 first, so one dup2 cannot overwrite another's source.
    var high: [Int32] = []
    defer { for fd in high { close(fd) } }
    for fd in [stdio.0, stdio.1, stdio.2] {
      let moved = fcntl(fd, F_DUPFD_CLOEXEC, 3)
      guard moved >= 0 else { throw MonitorError("fcntl(F_DUPFD_CLOEXEC)") }
      high.append(moved)
    }
    for (number, fd) in high.enumerated() { posix_spawn_file_actions_adddup2(&actions, fd, Int32(number)) }
    crio_spawn_closefrom(&actions, 3)

    // runc inherits the monitor's environment (the handler's monitor_env).
    // The monitor blocks SIGCHLD and SIGTERM for its signalfd: runc must
    // start with nothing blocked and default dispositions.
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    crio_spawnattr_clean_signals(&attributes)

    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    defer { for arg in argv { free(arg) } }
    var pid: pid_t = 0
    let result = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
    guard result == 0 else {
      errno = result
      throw MonitorError("spawn \(executable)")
    }
    return pid
  }

  /// A pipe, both ends close-on-exec.
  static func pipe() throws(MonitorError) -> (read: Int32, write: Int32) {
    var fds: [Int32] = [-1, -1]
    guard crio_monitor_pipe(&fds) == 0 else { throw MonitorError("pipe") }
    return (fds[0], fds[1])
  }

  static func setNonBlocking(_ fd: Int32) {
    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
  }
}
