import CSupport
import MonitorWire
import Support
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A process started by `runc exec` for a streaming session: pipes for its
/// stdio, or the terminal runc allocated (its master end), and what is
/// needed to end it early.
public struct ExecSession: Sendable {
  /// The `runc exec` process; its exit status is the command's.
  public let runc: pid_t
  /// Write end of the command's stdin (nil when not asked for); with a
  /// terminal this is the terminal's master.
  public let stdin: Int32?
  public let stdout: Int32?
  public let stderr: Int32?
  /// The terminal's master, for resizes (nil without a terminal).
  public let terminal: Int32?
  /// Holds the pid file runc writes; removed once the session ends.
  let directory: String
  /// With a pod monitor: the connection its exit code comes on (runc is
  /// the monitor's child, not the daemon's), and the monitor removes the
  /// directory.
  var monitor: Int32? = nil

  /// The command's own PID (runc writes it once the process runs).
  public var commandPID: pid_t? { ConmonRuntime.readPid(directory + "/pid") }

  /// Gives the command's terminal a new size (runc copies it on SIGWINCH).
  public func resize(width: UInt16, height: UInt16) {
    guard let terminal else { return }
    _ = crio_set_window_size(terminal, height, width)
    Glibc.kill(runc, SIGWINCH)
  }

  /// Kills the command (runc exec cannot forward SIGKILL) and runc.
  public func kill() {
    if let pid = commandPID { Glibc.kill(pid, SIGKILL) }
    Glibc.kill(runc, SIGKILL)
  }

  /// Waits for runc's exit status (the command's), then removes the
  /// session's files.
  public func wait() async -> Int32 {
    if let monitor {
      defer { close(monitor) }
      let answer = try? await PodMonitorCall.receive(monitor, timeout: .seconds(Int64(Int32.max)), id: "exec")
      guard case .execExited(let code)? = answer else { return -1 }
      return code
    }
    let status = await Processes.wait(runc, timeout: nil)
    Files.removeTree(directory)
    return status ?? -1
  }
}

extension ConmonRuntime {
  /// Runs `command` in the container with `runc exec` and collects its
  /// output: at most `outputLimit` bytes of stdout and stderr together, as
  /// `ExecOutput.split` shares them (the rest is read and dropped, so the
  /// command never blocks on a full pipe).
  /// When it runs longer than `timeout` the process is killed and the
  /// result has exit code -1, `timedOut` and stderr "command timed out".
  public func execSync(id: String, command: [String], timeout: Duration) async throws(RuntimeError) -> ExecResult {
    try await execSync(id: id, command: command, timeout: timeout, outputLimit: ExecOutput.maximumBytes)
  }

  public func execSync(id: String, command: [String], timeout: Duration, outputLimit: Int) async throws(RuntimeError) -> ExecResult {
    let session = try startExec(id: id, command: command, tty: false, stdin: false)
    let output = OutputCollector(limit: outputLimit)
    let readers = Task {
      await withTaskGroup(of: Void.self) { group in
        for (fd, isStdout) in [(session.stdout, true), (session.stderr, false)] {
          guard let fd else { continue }
          group.addTask { await output.drain(fd, isStdout: isStdout) }
        }
      }
    }
    var status = await Processes.wait(session.runc, timeout: timeout)
    let timedOut = status == nil
    if timedOut {
      // runc exec cannot forward SIGKILL: kill the command, then runc.
      session.kill()
      status = await Processes.wait(session.runc, timeout: config.commandTimeout)
      if status == nil { Glibc.kill(session.runc, SIGKILL) }
    }
    // A background process of the command may hold the pipes open: what it
    // has written by now is kept, then reading stops.
    readers.cancel()
    await readers.value
    for fd in [session.stdout, session.stderr].compactMap({ $0 }) {
      output.drainAvailable(fd, isStdout: fd == session.stdout)
      close(fd)
    }
    let commandRan = Files.kind(of: session.directory + "/pid") != .missing
    Files.removeTree(session.directory)
    var (stdout, stderr) = output.collected
    if timedOut {
      let message = Array(ExecResult.timedOutMessage.utf8)
      return ExecResult(exitCode: -1, stdout: Array(stdout.prefix(outputLimit - message.count)), stderr: message, timedOut: true)
    }
    let kept = ExecOutput.split(stdout: stdout.count, stderr: stderr.count, total: outputLimit)
    if kept.stdout < stdout.count { stdout = Array(stdout.prefix(kept.stdout)) }
    if kept.stderr < stderr.count { stderr = Array(stderr.prefix(kept.stderr)) }
    let code = status ?? -1
    // runc's own failures (no such container, no such command) print on stderr without running anything.
    if code != 0, !commandRan {
      let message = String(decoding: stderr, as: UTF8.self).trimmed
      if message.contains("does not exist") || message.contains("not running") && message.contains("container") {
        throw .notFound(id: id)
      }
    }
    return ExecResult(exitCode: code, stdout: stdout, stderr: stderr, timedOut: false)
  }

  /// Starts `command` in the running container `id`. With `tty`, runc makes
  /// a terminal (see `startTerminalExec`); otherwise the
  /// command's stdio are pipes (stdin /dev/null unless asked for).
  public func startExec(id: String, command: [String], tty: Bool, stdin: Bool) throws(RuntimeError) -> ExecSession {
    guard !command.isEmpty else { throw .runtimeFailed(id: id, operation: "exec", status: -1, stderr: "empty command") }
    /// Holds the pid file runc writes; removed once the session ends.
  let directory: String
    do { directory = try Files.makeTemporaryDirectory(prefix: "crio-exec") } catch {
      throw .system(error, context: "exec in container \(id)")
    }
    do {
      return try tty
        ? startTerminalExec(id: id, command: command, directory: directory)
        : startPipedExec(id: id, command: command, stdin: stdin, directory: directory)
    } catch {
      Files.removeTree(directory)
      throw error
    }
  }

  private func startPipedExec(id: String, command: [String], stdin: Bool, directory: String) throws(RuntimeError) -> ExecSession {
    var pipes: [(read: Int32, write: Int32)] = []
    defer { for pipe in pipes { close(pipe.read); close(pipe.write) } }
    for _ in 0..<(stdin ? 3 : 2) {
      var fds: [Int32] = [-1, -1]
      guard pipe(&fds) == 0 else { throw .system(SystemError("pipe"), context: "exec in container \(id)") }
      // Close-on-exec at once: no other spawn may inherit these ends.
      for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
      pipes.append((fds[0], fds[1]))
    }
    var passing = [(fd: pipes[0].write, number: Int32(1)), (fd: pipes[1].write, number: Int32(2))]
    if stdin { passing.append((fd: pipes[2].read, number: 0)) }
    let arguments = runtimeArguments(["exec", "--pid-file", directory + "/pid", id] + command)
    let runc: pid_t
    do {
      runc = try Processes.spawn(config.runtimePath, arguments, stdout: "/dev/null", stderr: "/dev/null", passing: passing)
    } catch {
      throw .system(error, context: "exec in container \(id)")
    }
    // Keep the ends this side uses; the deferred close takes the others.
    let stdout = dup(pipes[0].read), stderr = dup(pipes[1].read)
    let input = stdin ? dup(pipes[2].write) : nil
    return ExecSession(runc: runc, stdin: input, stdout: stdout, stderr: stderr, terminal: nil, directory: directory)
  }

  /// runc in the foreground with a terminal of ours as its stdio: it makes
  /// the container's terminal, copies between the two, and on SIGWINCH
  /// gives the container's terminal the size of ours (runc's console-socket
  /// mode would hand us the container's terminal directly, but only with
  /// --detach, which loses the exit code).
  private func startTerminalExec(id: String, command: [String], directory: String) throws(RuntimeError) -> ExecSession {
    var master: Int32 = -1, slave: Int32 = -1
    guard crio_open_pty(&master, &slave) == 0 else {
      throw .system(SystemError("posix_openpt"), context: "exec in container \(id)")
    }
    defer { close(slave) }
    let arguments = runtimeArguments(["exec", "--tty", "--pid-file", directory + "/pid", id] + command)
    let runc: pid_t
    do {
      runc = try Processes.spawn(
        config.runtimePath, arguments, stdout: "/dev/null", stderr: "/dev/null",
        passing: [(fd: slave, number: 0), (fd: slave, number: 1), (fd: slave, number: 2)])
    } catch {
      close(master)
      throw .system(error, context: "exec in container \(id)")
    }
    return ExecSession(runc: runc, stdin: dup(master), stdout: dup(master), stderr: nil, terminal: master, directory: directory)
  }
}

/// stdout and stderr of an exec, read as the kernel says they are readable,
/// each kept up to the limit (the rest read and dropped); the caller then
/// cuts them to share it.
final class OutputCollector: Sendable {
  private struct Buffers {
    var stdout: [UInt8] = []
    var stderr: [UInt8] = []
  }
  private let buffers = Mutex(Buffers())
  private let limit: Int

  init(limit: Int) { self.limit = limit }

  var collected: (stdout: [UInt8], stderr: [UInt8]) { buffers.withLock { ($0.stdout, $0.stderr) } }

  /// Reads until end of file or cancellation.
  func drain(_ fd: Int32, isStdout: Bool) async {
    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    while !Task.isCancelled {
      if drainAvailable(fd, isStdout: isStdout) { return }
      guard await Readiness.shared.waitReadable(fd) else { return }
    }
  }

  /// Reads what is there now; true at end of file or on an error.
  @discardableResult
  func drainAvailable(_ fd: Int32, isStdout: Bool) -> Bool {
    var chunk = [UInt8](repeating: 0, count: 64 << 10)
    while true {
      let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      if count > 0 {
        buffers.withLock { buffers in
          if isStdout {
            buffers.stdout += chunk[..<min(count, max(0, limit - buffers.stdout.count))]
          } else {
            buffers.stderr += chunk[..<min(count, max(0, limit - buffers.stderr.count))]
          }
        }
        continue
      }
      if count < 0 && errno == EINTR { continue }
      return !(count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
    }
  }
}
