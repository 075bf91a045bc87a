import CRIAPI
import GRPCCore

extension CRIRuntimeService {
  public func startContainer(
    request: Runtime_V1_StartContainerRequest,
    context: GRPCCore.ServerContext
  ) async throws -> Runtime_V1_StartContainerResponse {
    try await daemon.containers.supervisor.start(daemon.container(request.containerID))
    return Runtime_V1_StartContainerResponse()
  }
}
