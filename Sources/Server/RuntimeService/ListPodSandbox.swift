import CRIAPI
import GRPCCore
import SwiftProtobuf

extension CRIRuntimeService {
  public func listPodSandbox(
    request: Runtime_V1_ListPodSandboxRequest,
    context: GRPCCore.ServerContext
  ) async throws -> Runtime_V1_ListPodSandboxResponse {
    var response = Runtime_V1_ListPodSandboxResponse()
    response.items = daemon.podSandboxes(matching: request.hasFilter ? request.filter : nil)
    return response
  }

  public func streamPodSandboxes(
    request: Runtime_V1_StreamPodSandboxesRequest,
    response: GRPCCore.RPCWriter<Runtime_V1_StreamPodSandboxesResponse>,
    context: GRPCCore.ServerContext
  ) async throws {
    try await response.writeInBatches(daemon.podSandboxes(matching: request.hasFilter ? request.filter : nil)) { batch in
      Runtime_V1_StreamPodSandboxesResponse.with { $0.podSandboxes = batch }
    }
  }
}

extension DaemonContext {
  /// Pods matching a filter (ID prefix, state, every label of the selector),
  /// oldest first.
  func podSandboxes(matching filter: Runtime_V1_PodSandboxFilter?) -> [Runtime_V1_PodSandbox] {
    pods.supervisor.index.all.map(\.record)
      .filter { pod in
        guard let filter else { return true }
        if !filter.id.isEmpty && !pod.id.hasPrefix(filter.id) { return false }
        if filter.hasState && filter.state.state != pod.criState { return false }
        let labels = pod.configMessage.labels
        return filter.labelSelector.allSatisfy { labels[$0.key] == $0.value }
      }
      .sorted { $0.createdAt < $1.createdAt }
      .map { pod in
        let config = pod.configMessage
        var item = Runtime_V1_PodSandbox()
        item.id = pod.id
        item.metadata = config.metadata
        item.state = pod.criState
        item.createdAt = pod.createdAt
        item.labels = config.labels
        item.annotations = config.annotations
        item.runtimeHandler = pod.runtimeHandler
        return item
      }
  }
}
