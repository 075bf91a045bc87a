import CRIAPI
import GRPCCore
import SwiftProtobuf

extension CRIRuntimeService {
  public func podSandboxStats(
    request: Runtime_V1_PodSandboxStatsRequest,
    context: GRPCCore.ServerContext
  ) async throws -> Runtime_V1_PodSandboxStatsResponse {
    let pod = try daemon.pod(request.podSandboxID)
    var response = Runtime_V1_PodSandboxStatsResponse()
    response.stats = await StatsCollector(daemon: daemon).podStats(pod)
    return response
  }

  public func listPodSandboxStats(
    request: Runtime_V1_ListPodSandboxStatsRequest,
    context: GRPCCore.ServerContext
  ) async throws -> Runtime_V1_ListPodSandboxStatsResponse {
    var response = Runtime_V1_ListPodSandboxStatsResponse()
    response.stats = await podStats(matching: request.hasFilter ? request.filter : nil)
    return response
  }

  public func streamPodSandboxStats(
    request: Runtime_V1_StreamPodSandboxStatsRequest,
    response: GRPCCore.RPCWriter<Runtime_V1_StreamPodSandboxStatsResponse>,
    context: GRPCCore.ServerContext
  ) async throws {
    try await response.writeInBatches(await podStats(matching: request.hasFilter ? request.filter : nil)) { batch in
      Runtime_V1_StreamPodSandboxStatsResponse.with { $0.podSandboxStats = batch }
    }
  }

  /// Stats of the pods a filter selects (ID prefix, labels), oldest first.
  func podStats(matching filter: Runtime_V1_PodSandboxStatsFilter?) async -> [Runtime_V1_PodSandboxStats] {
    let collector = StatsCollector(daemon: daemon)
    var result: [Runtime_V1_PodSandboxStats] = []
    for pod in daemon.pods.supervisor.index.all.map(\.record).sorted(by: { $0.createdAt < $1.createdAt }) {
      if let filter {
        if !filter.id.isEmpty && !pod.id.hasPrefix(filter.id) { continue }
        let labels = pod.configMessage.labels
        if !filter.labelSelector.allSatisfy({ labels[$0.key] == $0.value }) { continue }
      }
      result.append(await collector.podStats(pod))
    }
    return result
  }
}
