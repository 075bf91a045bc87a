import CRIAPI
import GRPCCore
import SwiftProtobuf

extension CRIRuntimeService {
  public func containerStats(
    request: Runtime_V1_ContainerStatsRequest,
    context: GRPCCore.ServerContext
  ) async throws -> Runtime_V1_ContainerStatsResponse {
    let record = try daemon.container(request.containerID).record
    var response = Runtime_V1_ContainerStatsResponse()
    response.stats = await StatsCollector(daemon: daemon).containerStats(record)
    return response
  }

  public func listContainerStats(
    request: Runtime_V1_ListContainerStatsRequest,
    context: GRPCCore.ServerContext
  ) async throws -> Runtime_V1_ListContainerStatsResponse {
    var response = Runtime_V1_ListContainerStatsResponse()
    response.stats = await containerStats(matching: request.hasFilter ? request.filter : nil)
    return response
  }

  public func streamContainerStats(
    request: Runtime_V1_StreamContainerStatsRequest,
    response: GRPCCore.RPCWriter<Runtime_V1_StreamContainerStatsResponse>,
    context: GRPCCore.ServerContext
  ) async throws {
    try await response.writeInBatches(await containerStats(matching: request.hasFilter ? request.filter : nil)) { batch in
      Runtime_V1_StreamContainerStatsResponse.with { $0.containerStats = batch }
    }
  }

  /// Stats of the containers a filter selects (ID prefix, pod ID prefix,
  /// labels), oldest first, as ListContainers selects them.
  func containerStats(matching filter: Runtime_V1_ContainerStatsFilter?) async -> [Runtime_V1_ContainerStats] {
    var listFilter: Runtime_V1_ContainerFilter?
    if let filter {
      listFilter = .with {
        $0.id = filter.id
        $0.podSandboxID = filter.podSandboxID
        $0.labelSelector = filter.labelSelector
      }
    }
    let collector = StatsCollector(daemon: daemon)
    var result: [Runtime_V1_ContainerStats] = []
    for record in daemon.containerRecords(matching: listFilter) {
      result.append(await collector.containerStats(record))
    }
    let (containers, pods) = (daemon.containers.supervisor.index.all.map(\.id), daemon.pods.supervisor.index.all.map(\.id))
    await daemon.stats.keep(only: Set(containers + pods.map { "pod:" + $0 }))
    await daemon.statsCache.keep(containers: Set(containers), pods: Set(pods))
    return result
  }
}
