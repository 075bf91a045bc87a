import CRIAPI
import GRPCCore
import Logging

extension CRIRuntimeService {
  /// kubelet's in-place pod resize tells the runtime the pod's new totals
  /// (for NRI plugins in CRI-O); the limits themselves arrive through
  /// UpdateContainerResources and the pod cgroup kubelet manages, so there
  /// is nothing to apply here beyond checking the pod.
  public func updatePodSandboxResources(
    request: Runtime_V1_UpdatePodSandboxResourcesRequest,
    context: GRPCCore.ServerContext
  ) async throws -> Runtime_V1_UpdatePodSandboxResourcesResponse {
    let pod = try daemon.pod(request.podSandboxID)
    daemon.logger.info("Pod resources updated by kubelet", metadata: ["pod": "\(pod.id)"])
    return Runtime_V1_UpdatePodSandboxResourcesResponse()
  }
}
