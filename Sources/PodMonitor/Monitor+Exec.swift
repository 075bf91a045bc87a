import CMonitor
import CSupport
import MonitorWire

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A streaming exec: its stdio went to the daemon (the streaming server
/// copies it); the monitor only reaps runc and tells the daemon the code.
final class StreamingExec {
  let runc: pid_t
  let connection: Connection
  let pidFile: String

  init(runc: pid_t, connection: Connection, pidFile: String) {
    self.runc = runc
    self.connection = connection
    self.pidFile = pidFile
  }
}

extension Monitor {
  /// `runc exec` with pipes, or with a terminal whose slave is runc's
  /// stdio (runc in the foreground makes the container's terminal and
  /// copies, so the exit code is the command's). The daemon's ends are
  /// sent with the answer and closed here, so the daemon sees end of file
  /// when the command ends.
  func startStreamingExec(
    _ container: Container, command: [String], tty: Bool, stdin: Bool, for connection: Connection
  ) throws(MonitorError) {
    guard connection.output.isEmpty else { throw MonitorError(message: "an answer is still being sent on this connection") }
    var template = Array("/tmp/crio-exec-XXXXXX".utf8CString)
    guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
      throw MonitorError("mkdtemp for the exec's pid file")
    }
    let directory = String(cString: made)
    let pidFile = directory + "/pid"
    var theirs: [Int32] = []
    var runcs: [Int32] = []
    let null = open("/dev/null", O_RDWR | O_CLOEXEC)
    defer {
      for fd in theirs + runcs { close(fd) }
      if null >= 0 { close(null) }
    }
    var arguments = ["--root", options.runtimeRoot, "exec", "--pid-file", pidFile]
    var stdio = (null, null, null)
    let runc: pid_t
    do throws(MonitorError) {
      if tty {
        var master: Int32 = -1, slave: Int32 = -1
        guard crio_open_pty(&master, &slave) == 0 else { throw MonitorError("posix_openpt") }
        theirs = [master]
        runcs = [slave]
        stdio = (slave, slave, slave)
        arguments.append("--tty")
      } else {
        let out = try Spawn.pipe()
        theirs.append(out.read)
        runcs.append(out.write)
        let err = try Spawn.pipe()
        theirs.append(err.read)
        runcs.append(err.write)
        stdio = (null, out.write, err.write)
        if stdin {
          let input = try Spawn.pipe()
          theirs.append(input.write)
          runcs.append(input.read)
          stdio.0 = input.read
        }
      }
      runc = try Spawn.run(options.runtime, arguments + [container.id] + command, stdio: stdio)
    } catch {
      rmdir(directory)
      throw error
    }
    streams[runc] = StreamingExec(runc: runc, connection: connection, pidFile: pidFile)
    connection.busy = true
    let frame = Frame.encode(MonitorResponse.execStarted(runc: runc, pidFile: pidFile))
    let sent = frame.withUnsafeBytes { bytes in
      theirs.withUnsafeBufferPointer { crio_monitor_send_fds(connection.fd, bytes.baseAddress, UInt(bytes.count), $0.baseAddress, Int32($0.count)) }
    }
    if sent != frame.count {
      // No one will read the command's output: it ends now.
      printError("cannot hand an exec's descriptors to the daemon: \(String(cString: strerror(errno)))")
      kill(runc, SIGKILL)
    }
  }

  /// runc exec ended: its pid file goes, and the daemon learns the code.
  func finish(_ stream: StreamingExec, status: Int32) {
    unlink(stream.pidFile)
    let directory = String(stream.pidFile.dropLast("/pid".count))
    if directory.hasPrefix("/tmp/crio-exec-") { rmdir(directory) }
    answerLater(stream.connection, .execExited(code: ExitRecord.code(waitStatus: status)))
    finishShutdownIfDone()
  }
}
