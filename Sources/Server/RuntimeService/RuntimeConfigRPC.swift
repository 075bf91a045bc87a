import CRIAPI
import Config
import GRPCCore

extension CRIRuntimeService {
  public func runtimeConfig(
    request: Runtime_V1_RuntimeConfigRequest,
    context: GRPCCore.ServerContext
  ) async throws -> Runtime_V1_RuntimeConfigResponse {
    var response = Runtime_V1_RuntimeConfigResponse()
    // kubelet adopts the runtime's cgroup driver, so the two never disagree.
    response.linux.cgroupDriver = daemon.config.runtime.cgroupManager == .systemd ? .systemd : .cgroupfs
    return response
  }
}
