import CRIAPI
import GRPCCore
import Runtime

extension CRIRuntimeService {
  /// kubelet rotated the log file (renamed it): conmon starts a new one.
  public func reopenContainerLog(
    request: Runtime_V1_ReopenContainerLogRequest,
    context: GRPCCore.ServerContext
  ) async throws -> Runtime_V1_ReopenContainerLogResponse {
    let owner = try daemon.runningContainer(request.containerID)
    do {
      try await owner.runtime.reopenLog(owner.layout, logPath: owner.record.logPath)
    } catch {
      throw CRIError.runtime(error, "reopening the log of container \(owner.id)")
    }
    return Runtime_V1_ReopenContainerLogResponse()
  }
}
