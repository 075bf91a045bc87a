import Support

#if canImport(Glibc)
import Glibc
#endif

/// The daemon's side of pinning: runs the `crio pinns` helper (the daemon's
/// own binary) for a pod and removes pinned namespaces again.
public struct NamespacePinner: Sendable {
  /// The binary that has the `pinns` subcommand.
  public let helper: String

  public init(helper: String) {
    self.helper = helper
  }

  /// The running executable, for the daemon to re-execute itself.
  public static func currentExecutable() -> String {
    Processes.currentExecutable() ?? "crio"
  }

  public func pin(_ request: PinRequest) async throws(NamespaceError) -> PinnedNamespaces {
    var arguments = ["pinns", "--dir", request.directory, "--name", request.name]
    arguments += request.kinds.map { "--\($0.rawValue)" }
    if let mappings = request.userNamespace {
      arguments += mappings.uids.flatMap { ["--uid-map", $0.argument] }
      arguments += mappings.gids.flatMap { ["--gid-map", $0.argument] }
    }
    if let hostname = request.hostname { arguments += ["--hostname", hostname] }
    for (key, value) in request.sysctls { arguments += ["--sysctl", "\(key)=\(value)"] }
    let result: (status: Int32, stdout: String, stderr: String)
    do {
      result = try await Processes.run(helper, arguments, timeout: .seconds(30))
    } catch {
      throw NamespaceError("cannot run the namespace helper \(helper): \(error)")
    }
    guard result.status == 0 else {
      let message = result.stderr.split(separator: "\n").last.map(String.init) ?? "exit status \(result.status)"
      throw NamespaceError("pinning namespaces for \(request.name) failed: \(message)")
    }
    return request.pinned
  }

  /// Unmounts and removes the files; what is already gone is fine, so this
  /// can run again after a crash. (The pod's init, which holds its PID
  /// namespace, is a runc container the caller deletes.)
  public static func unpin(_ namespaces: PinnedNamespaces) throws(NamespaceError) {
    for path in namespaces.paths {
      if umount2(path, Int32(MNT_DETACH)) != 0 && errno != EINVAL && errno != ENOENT {
        throw NamespaceError("cannot unmount pinned namespace \(path): \(SystemError("umount").reason)")
      }
      if unlink(path) != 0 && errno != ENOENT {
        throw NamespaceError("cannot remove pinned namespace \(path): \(SystemError("unlink").reason)")
      }
    }
  }
}
