import Support

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension ConmonRuntime {
  /// `runc run --detach`: creates and starts a container that no monitor
  /// watches, for a pod's init, whose output nobody reads and whose end the
  /// daemon learns from the pod's namespace. Returns its PID; on failure
  /// nothing is left in the runtime's state.
  public func runUnmonitored(id: String, bundle: OCIBundle) async throws(RuntimeError) -> Int32 {
    do { try Files.makeDirectories(config.runtimeRoot, mode: 0o700) } catch {
      throw .system(error, context: "creating the runtime directory for \(id)")
    }
    let pidFile = bundle.path + "/pidfile"
    unlink(pidFile)
    do {
      try await runRuntime(id: id, operation: "run", ["run", "--detach", "--bundle", bundle.path, "--pid-file", pidFile, id])
    } catch {
      try? await delete(id: id, force: true)
      throw error
    }
    guard let pid = Self.readPid(pidFile) else {
      try? await delete(id: id, force: true)
      throw .invalidOutput(id: id, operation: "run", output: "no pid file at \(pidFile)")
    }
    return pid
  }
}
