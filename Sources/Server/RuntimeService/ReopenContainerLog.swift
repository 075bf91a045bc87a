import CRIAPI
import GRPCCore
import Runtime

extension CRIRuntimeService {
  /// kubelet rotated the log file (renamed it): conmon starts a new one.
  public func reopenContainerLog(
    request: Runtime_V1_ReopenContainerLogRequest,
    context: GRPCCore.ServerContext
  ) async throws -> Runtime_V1_ReopenContainerLogResponse {
    guard let record = try await daemon.containers.store.find(request.containerID) else {
      throw CRIError.notFound("container \"\(request.containerID)\" not found")
    }
    let current = await daemon.refreshed(record)
    guard current.state == .running else {
      throw CRIError.failedPrecondition("container \(current.id) is not running; only a running container's log can be reopened")
    }
    do {
      try await ConmonControl.reopenLog(id: current.id, bundle: current.bundle, logPath: current.logPath)
    } catch {
      throw CRIError.internal("reopening the log of container \(current.id): \(error)")
    }
    return Runtime_V1_ReopenContainerLogResponse()
  }
}
