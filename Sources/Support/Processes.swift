import CSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Starting and reaping child processes.
public enum Processes {
  /// Starts `executable` with stdin from /dev/null and stdout and stderr
  /// appended to the given files (the same file for both is fine).
  /// `environment` nil inherits the daemon's. Each `(fd, number)` of `passing`
  /// is duplicated to `number` in the child; every other descriptor is closed
  /// there, so nothing the daemon has open leaks into a long-lived child (a
  /// leaked write descriptor makes executing that file fail with ETXTBSY, a
  /// leaked pipe end keeps its reader from seeing end of file). Signal
  /// dispositions and the mask are reset: the daemon ignores SIGTERM and
  /// SIGHUP to handle them itself, and children must not inherit that.
  public static func spawn(
    _ executable: String, _ arguments: [String], stdout: String, stderr: String,
    environment: [String]? = nil, passing: [(fd: Int32, number: Int32)] = [], workingDirectory: String? = nil
  ) throws(SystemError) -> pid_t {
    // Move the passed descriptors above every target number first, so one
    // dup2 cannot overwrite the source of another.
    var moved: [(fd: Int32, number: Int32)] = []
    defer { for entry in moved { close(entry.fd) } }
    for entry in passing {
      let high = fcntl(entry.fd, F_DUPFD_CLOEXEC, 64)
      guard high >= 0 else { throw SystemError("fcntl(F_DUPFD_CLOEXEC)") }
      moved.append((high, entry.number))
    }

    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_APPEND, 0o600)
    if stderr == stdout {
      posix_spawn_file_actions_adddup2(&actions, 1, 2)
    } else {
      posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_APPEND, 0o600)
    }
    for entry in moved {
      // dup2 clears close-on-exec on the new number.
      posix_spawn_file_actions_adddup2(&actions, entry.fd, entry.number)
    }
    crio_spawn_closefrom(&actions, max(2, passing.map(\.number).max() ?? 2) + 1)
    if let workingDirectory { crio_spawn_chdir(&actions, workingDirectory) }

    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    crio_spawnattr_clean_signals(&attributes)

    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    defer { for arg in argv { free(arg) } }
    let envp = environment.map { $0.map { strdup($0) } + [nil] }
    defer { for entry in envp ?? [] { free(entry) } }
    var pid: pid_t = 0
    var result: Int32 = 0
    // A file just written (a CNI plugin being installed) can still be open
    // for writing in a child another thread forked but has not yet exec'd;
    // executing it fails with ETXTBSY until that child execs: a few short
    // retries instead of an error.
    for attempt in 1...5 {
      if var envp {
        result = posix_spawn(&pid, executable, &actions, &attributes, argv, &envp)
      } else {
        result = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
      }
      guard result == ETXTBSY else { break }
      usleep(UInt32(attempt) * 5_000)
    }
    guard result == 0 else { throw SystemError(operation: "spawn", path: executable, code: result) }
    return pid
  }

  /// The path of the running executable (to re-execute the daemon, or to
  /// find binaries built beside a test).
  public static func currentExecutable() -> String? {
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    let count = readlink("/proc/self/exe", &buffer, Int(PATH_MAX))
    return count > 0 ? String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self) : nil
  }

  /// The exit code of a reaped child if it has ended (128 + n for signal n), else nil.
  public static func reap(_ pid: pid_t) -> Int32? {
    var status: Int32 = 0
    guard waitpid(pid, &status, WNOHANG) == pid else { return nil }
    let signal = status & 0x7f
    return signal == 0 ? (status >> 8) & 0xff : 128 + signal
  }

  /// Whether `pid` names a process that has not ended (a zombie counts as
  /// ended): a child or any other.
  public static func isAlive(_ pid: pid_t) -> Bool {
    guard pid > 0, kill(pid, 0) == 0 || errno == EPERM else { return false }
    guard let stat = try? Files.read("/proc/\(pid)/stat"), let close = stat.utf8.lastIndex(of: UInt8(ascii: ")")) else { return false }
    let state = stat.utf8[stat.utf8.index(after: close)...].first { $0 != UInt8(ascii: " ") }
    return state != UInt8(ascii: "Z") && state != UInt8(ascii: "X")
  }

  /// Every process's arguments, read from /proc (one that ends meanwhile
  /// is left out): how processes the daemon started but no longer
  /// parents (conmons, pod monitors, orphaned runc commands) are found.
  public static func commandLines() -> [(pid: pid_t, arguments: [String])] {
    ((try? Files.list("/proc")) ?? []).compactMap { entry in
      guard let pid = pid_t(entry), let bytes = try? Files.readBytes("/proc/\(entry)/cmdline") else { return nil }
      var arguments = bytes.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
      if arguments.last == "" { arguments.removeLast() }  // the closing NUL
      return (pid, arguments)
    }
  }

  /// Waits until the child ends (the kernel says so through its pidfd)
  /// and reaps it; nil when `timeout` passes first (nil timeout: no limit).
  public static func wait(_ pid: pid_t, timeout: Duration?) async -> Int32? {
    if let status = reap(pid) { return status }
    guard await waitForEnd(pid, timeout: timeout) else { return nil }
    return reap(pid)
  }

  /// Waits until `pid` (a child or any other process) has ended; false when
  /// `timeout` passes first. A process that is already gone has ended.
  @discardableResult
  public static func waitForEnd(_ pid: pid_t, timeout: Duration?) async -> Bool {
    let fd = crio_pidfd_open(pid)
    guard fd >= 0 else {
      // ESRCH: gone (and reaped) already. ENOSYS: a kernel before 5.3
      // (RHEL 8's 4.18) or valgrind, which has no pidfds.
      return errno == ESRCH ? true : await pollForEnd(pid, timeout: timeout)
    }
    defer { close(fd) }
    return await Readiness.shared.waitReadable(fd, timeout: timeout)
  }

  /// Waits until every one of `pids` has ended; false when `timeout`
  /// (for them all) passes first.
  @discardableResult
  public static func waitForEnd(_ pids: [pid_t], timeout: Duration) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    for pid in pids {
      guard await waitForEnd(pid, timeout: deadline - .now) else { return false }
    }
    return true
  }

  /// `waitForEnd` where there are no pidfds: looks every 10 ms. A child
  /// that has ended is a zombie until reaped, which `isAlive` counts as
  /// ended. False when `timeout` passes first or the task is cancelled.
  public static func pollForEnd(_ pid: pid_t, timeout: Duration?) async -> Bool {
    let deadline = timeout.map { ContinuousClock.now + $0 }
    while isAlive(pid) {
      if let deadline, ContinuousClock.now >= deadline { return false }
      do { try await Task.sleep(for: .milliseconds(10)) } catch { return false }
    }
    return true
  }

  /// Runs a command to completion: exit code, stdout and stderr.
  public static func run(_ executable: String, _ arguments: [String], timeout: Duration = .seconds(60)) async throws(SystemError) -> (status: Int32, stdout: String, stderr: String) {
    let dir = try Files.makeTemporaryDirectory(prefix: "crio-run")
    defer { Files.removeTree(dir) }
    // Spawning blocks the thread until the child has exec'd: off the cooperative pool.
    let pid = try await Blocking.spawn { () throws(SystemError) in
      try spawn(executable, arguments, stdout: dir + "/out", stderr: dir + "/err")
    }
    guard let status = await wait(pid, timeout: timeout) else {
      kill(pid, SIGKILL)
      _ = await wait(pid, timeout: .seconds(5))
      throw SystemError(operation: "run (timed out)", path: executable, code: ETIMEDOUT)
    }
    return (status, try Files.read(dir + "/out"), try Files.read(dir + "/err"))
  }
}

/// Runs `body`, then `cleanUp` whether `body` returned or threw: the async
/// `defer` that Swift lacks, for servers, clients and daemons that must be
/// stopped by awaiting.
public func withCleanUp<T>(_ body: () async throws -> T, cleanUp: () async -> Void) async throws -> T {
  let result: T
  do {
    result = try await body()
  } catch {
    await cleanUp()
    throw error
  }
  await cleanUp()
  return result
}
