import CRIAPI
import GRPCCore
import Support

extension CRIRuntimeService {
  public func containerStatus(
    request: Runtime_V1_ContainerStatusRequest,
    context: GRPCCore.ServerContext
  ) async throws -> Runtime_V1_ContainerStatusResponse {
    let record = try await daemon.container(request.containerID)
    let config = record.configMessage
    var status = Runtime_V1_ContainerStatus()
    status.id = record.id
    status.metadata = config.metadata
    status.state = record.criState
    status.createdAt = record.createdAt
    status.startedAt = record.startedAt
    status.finishedAt = record.finishedAt
    status.exitCode = record.exitCode
    status.image = config.image
    status.imageRef = record.imageRef
    status.imageID = record.imageID
    if record.state == .exited {
      status.reason = record.oomKilled == true ? "OOMKilled" : record.exitCode == 0 ? "Completed" : "Error"
    }
    status.resources.linux = record.resources
    status.labels = config.labels
    status.annotations = config.annotations
    status.mounts = config.mounts
    status.logPath = record.logPath
    var response = Runtime_V1_ContainerStatusResponse()
    response.status = status
    if request.verbose {
      response.info = ["info": JSONValue.object([
        ("sandboxID", .string(record.podID)),
        ("pid", .int(Int(record.pid))),
        ("bundle", .string(record.bundle)),
        ("runtimeHandler", .string(record.runtimeHandler)),
        ("runtimeSpec", .raw((try? Files.read(record.bundle + "/config.json")) ?? "null")),
      ]).rendered()]
    }
    return response
  }
}
