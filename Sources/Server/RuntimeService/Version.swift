import BuildInfo
import CRIAPI
import GRPCCore

extension CRIRuntimeService {
  public func version(
    request: Runtime_V1_VersionRequest,
    context: GRPCCore.ServerContext
  ) async throws -> Runtime_V1_VersionResponse {
    var response = Runtime_V1_VersionResponse()
    // `version` is the version of the kubelet runtime API, which CRI-O reports as 0.1.0.
    response.version = "0.1.0"
    response.runtimeName = ProjectVersion.runtimeName
    response.runtimeVersion = ProjectVersion.version
    response.runtimeApiVersion = ProjectVersion.runtimeAPIVersion
    return response
  }
}
