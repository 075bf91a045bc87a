import CRIAPI
import GRPCCore

/// The RuntimeService RPCs this daemon does not serve yet: each answers UNIMPLEMENTED
/// naming itself, so kubelet and crictl report it clearly instead of hanging.
/// Each moves to a file of its own when its capability lands.
extension CRIRuntimeService {
  public func checkpointContainer(
    request: Runtime_V1_CheckpointContainerRequest,
    context: GRPCCore.ServerContext
  ) async throws -> Runtime_V1_CheckpointContainerResponse {
    throw CRIError.unimplemented(rpc: "runtime.v1.RuntimeService/CheckpointContainer")
  }

}
