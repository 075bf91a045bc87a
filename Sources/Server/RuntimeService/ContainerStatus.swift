import CRIAPI
import GRPCCore
import Runtime
import Support

extension CRIRuntimeService {
  public func containerStatus(
    request: Runtime_V1_ContainerStatusRequest,
    context: GRPCCore.ServerContext
  ) async throws -> Runtime_V1_ContainerStatusResponse {
    let owner = try daemon.container(request.containerID)
    let record = owner.record
    var response = Runtime_V1_ContainerStatusResponse()
    response.status = record.criStatus()
    if request.verbose {
      response.info = ["info": JSONValue.object([
        ("sandboxID", .string(record.podID)),
        ("pid", .int(Int(record.pid))),
        ("bundle", .string(record.bundle)),
        ("runtimeHandler", .string(record.runtimeHandler)),
        ("runtimeSpec", .raw((try? Files.read(owner.layout.config)) ?? "null")),
      ]).rendered()]
    }
    return response
  }
}

extension ContainerRecord {
  /// What ContainerStatus (and a container event) says about it.
  func criStatus() -> Runtime_V1_ContainerStatus {
    let config = configMessage
    var status = Runtime_V1_ContainerStatus()
    status.id = id
    status.metadata = config.metadata
    status.state = criState
    status.createdAt = createdAt
    status.startedAt = startedAt
    status.finishedAt = finishedAt
    status.exitCode = exitCode
    status.image = config.image
    status.imageRef = imageRef
    status.imageID = imageID
    if state == .exited {
      status.reason = oomKilled == true ? "OOMKilled" : exitCode == 0 ? "Completed" : "Error"
      if monitorLost == true {
        status.reason = "ContainerMonitorLost"
        status.message = "the pod monitor holding the container died; the daemon killed the container"
      }
    }
    status.resources.linux = resources
    status.labels = config.labels
    status.annotations = config.annotations
    status.mounts = config.mounts
    status.logPath = logPath
    return status
  }
}
