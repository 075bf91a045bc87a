import OCI
import Support

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension ConmonRuntime {
  /// `runc update --resources <file>`: changes a running container's cgroup
  /// limits (CRI UpdateContainerResources). The resources go through a 0600
  /// file in a private temporary directory, which runc reads like stdin.
  /// `unified` entries are checked first (only on cgroup v2, file names only).
  public func update(id: String, resources: Spec.Resources) async throws(RuntimeError) {
    if let unified = resources.unified, !unified.isEmpty {
      do {
        let version = (try? CgroupLayout.current().version) ?? .v2
        try CgroupConversions.validateUnified(unified, version: version)
      } catch {
        throw .runtimeFailed(id: id, operation: "update", status: -1, stderr: error.description)
      }
    }
    let dir: String
    do { dir = try Files.makeTemporaryDirectory(prefix: "crio-update") } catch {
      throw .system(error, context: "updating resources of container \(id)")
    }
    defer { Files.removeTree(dir) }
    let file = dir + "/resources.json"
    let fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    guard fd >= 0 else {
      throw .system(SystemError("open", path: file), context: "updating resources of container \(id)")
    }
    do throws(SystemError) {
      defer { close(fd) }
      try Files.writeAll(fd, RuncUpdate.json(resources: resources), path: file)
    } catch {
      throw .system(error, context: "updating resources of container \(id)")
    }
    try await runRuntime(id: id, operation: "update", ["update", "--resources", file, id])
  }
}
