import CRIAPI
import GRPCCore
import SwiftProtobuf

extension CRIRuntimeService {
  public func listContainers(
    request: Runtime_V1_ListContainersRequest,
    context: GRPCCore.ServerContext
  ) async throws -> Runtime_V1_ListContainersResponse {
    var response = Runtime_V1_ListContainersResponse()
    response.containers = daemon.containers(matching: request.hasFilter ? request.filter : nil)
    return response
  }

  public func streamContainers(
    request: Runtime_V1_StreamContainersRequest,
    response: GRPCCore.RPCWriter<Runtime_V1_StreamContainersResponse>,
    context: GRPCCore.ServerContext
  ) async throws {
    try await response.writeInBatches(daemon.containers(matching: request.hasFilter ? request.filter : nil)) { batch in
      Runtime_V1_StreamContainersResponse.with { $0.containers = batch }
    }
  }
}

extension DaemonContext {
  /// Containers matching a filter (ID prefix, state, pod ID prefix, every
  /// label of the selector), oldest first.
  func containers(matching filter: Runtime_V1_ContainerFilter?) -> [Runtime_V1_Container] {
    containerRecords(matching: filter).map { record in
      let config = record.configMessage
      var item = Runtime_V1_Container()
      item.id = record.id
      item.podSandboxID = record.podID
      item.metadata = config.metadata
      item.image = config.image
      item.imageRef = record.imageRef
      item.imageID = record.imageID
      item.state = record.criState
      item.createdAt = record.createdAt
      item.labels = config.labels
      item.annotations = config.annotations
      return item
    }
  }

  /// The records of those containers, as the index holds them.
  func containerRecords(matching filter: Runtime_V1_ContainerFilter?) -> [ContainerRecord] {
    containers.supervisor.index.all.map(\.record)
      .filter { record in
        guard let filter else { return true }
        if !filter.id.isEmpty && !record.id.hasPrefix(filter.id) { return false }
        if filter.hasState && filter.state.state != record.criState { return false }
        if !filter.podSandboxID.isEmpty && !record.podID.hasPrefix(filter.podSandboxID) { return false }
        let labels = record.configMessage.labels
        return filter.labelSelector.allSatisfy { labels[$0.key] == $0.value }
      }
      .sorted { $0.createdAt < $1.createdAt }
  }
}
