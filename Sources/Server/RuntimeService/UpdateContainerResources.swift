import CRIAPI
import GRPCCore
import Logging
import OCI
import Runtime
import SwiftProtobuf

extension CRIRuntimeService {
  /// `runc update` of a created or running container's cgroup; the new
  /// values show in ContainerStatus.
  public func updateContainerResources(
    request: Runtime_V1_UpdateContainerResourcesRequest,
    context: GRPCCore.ServerContext
  ) async throws -> Runtime_V1_UpdateContainerResourcesResponse {
    let owner = try daemon.container(request.containerID)
    guard owner.record.state != .exited else {
      throw CRIError.failedPrecondition("container \(owner.id) has exited; its resources can no longer be changed")
    }
    guard request.hasLinux else { return Runtime_V1_UpdateContainerResourcesResponse() }
    var linux = Runtime_V1_LinuxContainerConfig()
    linux.resources = request.linux
    var resources = ContainerSpecBuilder.resources(linux, privileged: false)
    // Device rules are set at creation; an update leaves them alone.
    resources.devices = nil
    if request.linux.oomScoreAdj != 0 {
      // oom_score_adj belongs to the process, not the cgroup: runc cannot change it.
      throw CRIError.invalidArgument("linux.oom_score_adj cannot be changed after the container is created")
    }
    let serialized: [UInt8] = try request.linux.serializedBytes()
    try await daemon.containers.supervisor.update(owner) { (record) async throws(CRIError) -> ContainerRecord in
      do throws(Runtime.RuntimeError) {
        try await owner.runtime.update(id: record.id, resources: resources)
      } catch {
        throw CRIError.runtime(error, "updating the resources of container \(record.id)")
      }
      var updated = record
      updated.updatedResources = serialized
      return updated
    }
    daemon.logger.info("Updated container resources", metadata: ["id": "\(owner.id)"])
    return Runtime_V1_UpdateContainerResourcesResponse()
  }
}
