import CRIAPI
import GRPCCore

extension CRIRuntimeService {
  public func stopContainer(
    request: Runtime_V1_StopContainerRequest,
    context: GRPCCore.ServerContext
  ) async throws -> Runtime_V1_StopContainerResponse {
    // Stopping a stopped container succeeds.
    try await daemon.containers.supervisor.stop(daemon.container(request.containerID), timeout: .seconds(max(0, request.timeout)))
    return Runtime_V1_StopContainerResponse()
  }
}
