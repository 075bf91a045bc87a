import MonitorWire

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One ExecSync: `runc exec` with its output read by the loop, answered
/// when runc is reaped (or killed at the deadline).
final class ExecSession {
  let runc: pid_t
  let connection: Connection
  let pidFile: String
  /// Monotonic milliseconds.
  let deadline: Int64
  let limit: Int
  var stdout: Int32
  var stderr: Int32
  var output: (stdout: [UInt8], stderr: [UInt8]) = ([], [])
  var timedOut = false

  init(runc: pid_t, connection: Connection, pidFile: String, deadline: Int64, limit: Int, stdout: Int32, stderr: Int32) {
    self.runc = runc
    self.connection = connection
    self.pidFile = pidFile
    self.deadline = deadline
    self.limit = limit
    self.stdout = stdout
    self.stderr = stderr
  }

  /// runc exec cannot forward SIGKILL: the command is killed, then runc.
  func kill() {
    if let text = readText(pidFile), let pid = pid_t(RuncLog.trimmed(text)), pid > 0 { Glibc.kill(pid, SIGKILL) }
    Glibc.kill(runc, SIGKILL)
  }

  /// Reads what is there; false at end of file. Bytes beyond the limit
  /// are read and dropped, so the command never blocks on a full pipe.
  func read(_ fd: Int32) -> Bool {
    var chunk = [UInt8](repeating: 0, count: 64 << 10)
    while true {
      let got = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
      if got < 0 && errno == EINTR { continue }
      if got < 0 && errno == EAGAIN { return true }
      guard got > 0 else { return false }
      if fd == stdout {
        output.stdout += chunk[..<min(got, max(0, limit - output.stdout.count))]
      } else {
        output.stderr += chunk[..<min(got, max(0, limit - output.stderr.count))]
      }
    }
  }
}

extension Monitor {
  func startExecSync(
    _ container: Container, command: [String], timeoutMilliseconds: Int64, outputLimit: Int, for connection: Connection
  ) throws(MonitorError) {
    let limit = min(outputLimit, ExecOutput.maximumBytes)
    let out = try Spawn.pipe()
    let err: (read: Int32, write: Int32)
    do { err = try Spawn.pipe() } catch {
      close(out.read)
      close(out.write)
      throw error
    }
    let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
    defer {
      close(out.write)
      close(err.write)
      if null >= 0 { close(null) }
    }
    var template = Array("/tmp/crio-exec-XXXXXX".utf8CString)
    let directory = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }.map { String(cString: $0) }
    let pidFile = (directory ?? "/tmp") + "/pid"
    let runc: pid_t
    do {
      runc = try Spawn.run(
        options.runtime, ["--root", options.runtimeRoot, "exec", "--pid-file", pidFile, container.id] + command,
        stdio: (null, out.write, err.write))
    } catch {
      close(out.read)
      close(err.read)
      if let directory { rmdir(directory) }
      throw error
    }
    // A timeout of zero is no timeout, as for conmon.
    let deadline = timeoutMilliseconds > 0 ? Self.monotonicMilliseconds() + timeoutMilliseconds : .max
    let session = ExecSession(
      runc: runc, connection: connection, pidFile: pidFile, deadline: deadline, limit: limit, stdout: out.read, stderr: err.read)
    execs[runc] = session
    for fd in [out.read, err.read] {
      Spawn.setNonBlocking(fd)
      loop.watch(fd) { [unowned self, unowned session] _ in
        if !session.read(fd) { closeExecOutput(session, fd) }
      }
    }
  }

  private func closeExecOutput(_ session: ExecSession, _ fd: Int32) {
    loop.unwatch(fd)
    close(fd)
    if fd == session.stdout { session.stdout = -1 } else { session.stderr = -1 }
  }

  /// runc exec ended: what the pipes hold now is kept (a background
  /// process of the command may keep them open), then the answer goes.
  func finish(_ session: ExecSession, status: Int32) {
    for fd in [session.stdout, session.stderr] where fd >= 0 {
      _ = session.read(fd)
      closeExecOutput(session, fd)
    }
    let directory = String(session.pidFile.dropLast("/pid".count))
    let commandRan = access(session.pidFile, F_OK) == 0
    unlink(session.pidFile)
    if directory.hasPrefix("/tmp/crio-exec-") { rmdir(directory) }
    var (stdout, stderr) = session.output
    let code = ExitRecord.code(waitStatus: status)
    if session.timedOut {
      answerLater(session.connection, .execSync(exitCode: -1, stdout: stdout, stderr: [], timedOut: true))
    } else if code != 0, !commandRan, Self.saysNotRunning(stderr) {
      answerLater(session.connection, .error(.notFound, RuncLog.trimmed(String(decoding: stderr, as: UTF8.self))))
    } else {
      let kept = ExecOutput.split(stdout: stdout.count, stderr: stderr.count, total: session.limit)
      stdout.removeLast(stdout.count - kept.stdout)
      stderr.removeLast(stderr.count - kept.stderr)
      answerLater(session.connection, .execSync(exitCode: code, stdout: stdout, stderr: stderr, timedOut: false))
    }
    finishShutdownIfDone()
  }

  /// runc's own words when the container is gone (nothing was run).
  private static func saysNotRunning(_ stderr: [UInt8]) -> Bool {
    let message = String(decoding: stderr, as: UTF8.self)
    return message.contains("does not exist") || message.contains("not running") && message.contains("container")
  }
}
