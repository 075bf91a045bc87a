import CRIAPI
import GRPCCore

extension CRIRuntimeService {
  public func removeContainer(
    request: Runtime_V1_RemoveContainerRequest,
    context: GRPCCore.ServerContext
  ) async throws -> Runtime_V1_RemoveContainerResponse {
    // Removing a container that is gone succeeds (the call is idempotent);
    // a running one is stopped first.
    if let owner = try daemon.containers.supervisor.index.find(request.containerID) {
      try await daemon.containers.supervisor.remove(owner)
    }
    return Runtime_V1_RemoveContainerResponse()
  }
}
