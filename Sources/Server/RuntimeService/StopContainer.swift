import CRIAPI
import GRPCCore

extension CRIRuntimeService {
  public func stopContainer(
    request: Runtime_V1_StopContainerRequest,
    context: GRPCCore.ServerContext
  ) async throws -> Runtime_V1_StopContainerResponse {
    let record = try await daemon.container(request.containerID)
    // Stopping a stopped container succeeds.
    _ = try await daemon.stop(record, timeout: .seconds(max(0, request.timeout)))
    return Runtime_V1_StopContainerResponse()
  }
}
