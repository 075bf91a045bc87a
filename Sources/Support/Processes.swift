#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Starting and reaping child processes.
public enum Processes {
  /// Starts `executable` with stdin from /dev/null and stdout and stderr
  /// appended to the given files.
  public static func spawn(_ executable: String, _ arguments: [String], stdout: String, stderr: String) throws(SystemError) -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_APPEND, 0o644)
    posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_APPEND, 0o644)
    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    defer { for arg in argv { free(arg) } }
    var pid: pid_t = 0
    let result = posix_spawn(&pid, executable, &actions, nil, argv, environ)
    guard result == 0 else { throw SystemError(operation: "spawn", path: executable, code: result) }
    return pid
  }

  /// The exit code of a reaped child if it has ended (128 + n for signal n), else nil.
  public static func reap(_ pid: pid_t) -> Int32? {
    var status: Int32 = 0
    guard waitpid(pid, &status, WNOHANG) == pid else { return nil }
    let signal = status & 0x7f
    return signal == 0 ? (status >> 8) & 0xff : 128 + signal
  }

  /// Polls until the child ends or `timeout` passes.
  public static func wait(_ pid: pid_t, timeout: Duration) async -> Int32? {
    let deadline = ContinuousClock.now + timeout
    repeat {
      if let status = reap(pid) { return status }
      try? await Task.sleep(for: .milliseconds(2))
    } while ContinuousClock.now < deadline
    return nil
  }

  /// Runs a command to completion: exit code, stdout and stderr.
  public static func run(_ executable: String, _ arguments: [String], timeout: Duration = .seconds(60)) async throws(SystemError) -> (status: Int32, stdout: String, stderr: String) {
    let dir = try Files.makeTemporaryDirectory(prefix: "crio-run")
    defer { Files.removeTree(dir) }
    let pid = try spawn(executable, arguments, stdout: dir + "/out", stderr: dir + "/err")
    guard let status = await wait(pid, timeout: timeout) else {
      kill(pid, SIGKILL)
      _ = await wait(pid, timeout: .seconds(5))
      throw SystemError(operation: "run (timed out)", path: executable, code: ETIMEDOUT)
    }
    return (status, try Files.read(dir + "/out"), try Files.read(dir + "/err"))
  }
}
