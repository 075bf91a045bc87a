import MonitorWire
import Support

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension ConmonRuntime {
  /// `runc run --detach`: creates and starts a container that no monitor
  /// watches, for a pod's init or infra container, whose output nobody
  /// reads and whose end the daemon learns from the pod's namespace.
  /// Returns its PID; on failure nothing is left in the runtime's state.
  ///
  /// A detached runc hands its own stdin, stdout and stderr to the
  /// container's process: they are /dev/null, so the process holds no
  /// file of the host (a pause binary, unlike the pod init, does not close
  /// them, and the pod's containers reach it through /proc/1/fd). runc's
  /// own words go to `--log`, read back when it fails.
  public func runUnmonitored(id: String, bundle: OCIBundle) async throws(RuntimeError) -> Int32 {
    do { try Files.makeDirectories(config.runtimeRoot, mode: 0o700) } catch {
      throw .system(error, context: "creating the runtime directory for \(id)")
    }
    let pidFile = bundle.path + "/pidfile"
    let log = bundle.path + "/runc.log"
    unlink(pidFile)
    unlink(log)
    defer { unlink(log) }
    let arguments = runtimeArguments(["--log", log, "run", "--detach", "--bundle", bundle.path, "--pid-file", pidFile, id])
    let runtimePath = config.runtimePath
    let runc: pid_t
    do {
      runc = try await Blocking.spawn { () throws(SystemError) in
        try Processes.spawn(runtimePath, arguments, stdout: "/dev/null", stderr: "/dev/null")
      }
    } catch {
      throw .system(error, context: "running the runtime for run of container \(id)")
    }
    guard let status = await Processes.wait(runc, timeout: config.commandTimeout) else {
      Glibc.kill(runc, SIGKILL)
      _ = await Processes.wait(runc, timeout: .seconds(5))
      try? await delete(id: id, force: true)
      throw .timedOut(id: id, operation: "runtime run", seconds: config.commandTimeout.seconds)
    }
    guard status == 0 else {
      try? await delete(id: id, force: true)
      throw .runtimeFailed(id: id, operation: "run", status: status, stderr: RuncLog.errors((try? Files.read(log)) ?? ""))
    }
    guard let pid = Self.readPid(pidFile) else {
      try? await delete(id: id, force: true)
      throw .invalidOutput(id: id, operation: "run", output: "no pid file at \(pidFile)")
    }
    return pid
  }
}
