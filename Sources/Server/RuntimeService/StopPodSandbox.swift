import CRIAPI
import GRPCCore

extension CRIRuntimeService {
  public func stopPodSandbox(
    request: Runtime_V1_StopPodSandboxRequest,
    context: GRPCCore.ServerContext
  ) async throws -> Runtime_V1_StopPodSandboxResponse {
    // Stopping what is gone or already stopped succeeds: kubelet stops
    // eagerly and more than once.
    if let owner = try daemon.pods.supervisor.index.find(request.podSandboxID) {
      try await daemon.pods.supervisor.stop(owner)
    }
    return Runtime_V1_StopPodSandboxResponse()
  }
}
