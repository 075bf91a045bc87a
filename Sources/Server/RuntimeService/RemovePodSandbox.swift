import CRIAPI
import GRPCCore
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
    } catch {
      throw CRIError.internal("removing the record of pod \(pod.id): \(error)")
    }
    daemon.logger.info("Removed pod sandbox", metadata: ["id": "\(pod.id)", "name": "\(pod.name)"])
    return Runtime_V1_RemovePodSandboxResponse()
  }
}
