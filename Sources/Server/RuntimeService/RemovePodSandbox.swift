import CRIAPI
import GRPCCore
import Runtime
import Support

extension CRIRuntimeService {
  public func removePodSandbox(
    request: Runtime_V1_RemovePodSandboxRequest,
    context: GRPCCore.ServerContext
  ) async throws -> Runtime_V1_RemovePodSandboxResponse {
    // Removing a pod that is already gone succeeds (the call is idempotent).
    guard let pod = try await daemon.pods.store.find(request.podSandboxID) else {
      return Runtime_V1_RemovePodSandboxResponse()
    }
    try await daemon.stop(pod)
    for container in await daemon.containers(of: pod.id) {
      try await daemon.remove(container)
    }
    Files.removeTree(pod.directory)
    do {
      try await daemon.pods.store.delete(pod.id)
      await daemon.removeCgroupParent(of: pod)
      await daemon.pods.creations.forget(pod.name)
    } catch {
      throw CRIError.internal("removing the record of pod \(pod.id): \(error)")
    }
    daemon.logger.info("Removed pod sandbox", metadata: ["id": "\(pod.id)", "name": "\(pod.name)"])
    return Runtime_V1_RemovePodSandboxResponse()
  }
}

extension DaemonContext {
  /// Removes the cgroup of a removed pod if the pod made it; when other pods
  /// still use it, one of them inherits the duty. (Called after the pod's
  /// record is gone, so of pods removed at once the last one sees no sharer.)
  func removeCgroupParent(of pod: PodSandbox) async {
    guard pod.ownsCgroupParent == true, let parent = pod.cgroupParent, let layout = containers.cgroups else { return }
    let inherited = try? await pods.store.updateFirst(where: { $0.cgroupParent == parent }) { $0.ownsCgroupParent = true }
    guard inherited != true else { return }
    do {
      try await layout.removeCgroup(relativePath: parent)
    } catch {
      logger.warning("Cannot remove the pod's cgroup", metadata: ["pod": "\(pod.id)", "cgroup": "\(parent)", "error": "\(error)"])
    }
  }
}
