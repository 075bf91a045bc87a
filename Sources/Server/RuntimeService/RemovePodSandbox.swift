import CRIAPI
import GRPCCore

extension CRIRuntimeService {
  public func removePodSandbox(
    request: Runtime_V1_RemovePodSandboxRequest,
    context: GRPCCore.ServerContext
  ) async throws -> Runtime_V1_RemovePodSandboxResponse {
    // Removing a pod that is already gone succeeds (the call is idempotent).
    if let owner = try daemon.pods.supervisor.index.find(request.podSandboxID) {
      try await daemon.pods.supervisor.remove(owner)
    }
    return Runtime_V1_RemovePodSandboxResponse()
  }
}
