import MonitorWire

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A runc command (create, start, delete) that the loop does not wait
/// for: its end comes as SIGCHLD like any child's, so the rest of the pod
/// (logs, attach, execs, other containers' commands) is served meanwhile.
/// A runc stuck on a frozen cgroup or a hung mount stalls only the request
/// that started it, until its deadline.
final class RuntimeCommand {
  let pid: pid_t
  let id: String
  let operation: String
  /// runc's `--log`, where its error messages are read from.
  let logPath: String
  /// Monotonic milliseconds.
  let deadline: Int64
  var timedOut = false
  /// Called once, with nil when runc exited 0.
  let completion: (MonitorError?) -> Void

  init(pid: pid_t, id: String, operation: String, logPath: String, deadline: Int64, completion: @escaping (MonitorError?) -> Void) {
    self.pid = pid
    self.id = id
    self.operation = operation
    self.logPath = logPath
    self.deadline = deadline
    self.completion = completion
  }
}

extension Monitor {
  /// How long one runc command may take before it is killed (CRI-O's
  /// default for create is 240 s; start, delete and the rest are quick).
  static let runtimeTimeoutMilliseconds: Int64 = 240_000

  /// Starts runc with `--root` and its `--log`; `completion` runs from the
  /// loop when it has ended. Throws only when runc cannot be started, and
  /// then `completion` is never called.
  func runRuntime(
    _ arguments: [String], id: String, operation: String, stdio: (Int32, Int32, Int32)? = nil,
    then completion: @escaping (MonitorError?) -> Void
  ) throws(MonitorError) {
    let logPath = options.directory + "/runc-\(operation)-\(id).log"
    unlink(logPath)
    let null = open("/dev/null", O_RDWR | O_CLOEXEC)
    defer { if null >= 0 { close(null) } }
    let pid: pid_t
    do {
      pid = try Spawn.run(
        options.runtime, ["--root", options.runtimeRoot, "--log", logPath] + arguments, stdio: stdio ?? (null, null, null))
    } catch {
      unlink(logPath)
      throw error
    }
    commands[pid] = RuntimeCommand(
      pid: pid, id: id, operation: operation, logPath: logPath,
      deadline: Self.monotonicMilliseconds() + Self.runtimeTimeoutMilliseconds, completion: completion)
  }

  /// runc ended (reaped with `status`): its completion learns how.
  func finish(_ command: RuntimeCommand, status: Int32) {
    let failure: MonitorError?
    if command.timedOut {
      failure = MonitorError(message: "runtime \(command.operation) of container \(command.id) timed out")
    } else if status != 0 {
      let message = RuncLog.errors(readText(command.logPath) ?? "")
      failure = MonitorError(
        message: "runtime \(command.operation) of container \(command.id) failed (exit status \(ExitRecord.code(waitStatus: status)))"
          + (message.isEmpty ? "" : ": " + message))
    } else {
      failure = nil
    }
    unlink(command.logPath)
    command.completion(failure)
    finishShutdownIfDone()
  }
}
