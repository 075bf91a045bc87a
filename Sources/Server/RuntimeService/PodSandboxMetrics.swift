import CRIAPI
import GRPCCore
import SwiftProtobuf

extension CRIRuntimeService {
  public func listMetricDescriptors(
    request: Runtime_V1_ListMetricDescriptorsRequest,
    context: GRPCCore.ServerContext
  ) async throws -> Runtime_V1_ListMetricDescriptorsResponse {
    .with { $0.descriptors = PodMetrics.descriptors }
  }

  public func listPodSandboxMetrics(
    request: Runtime_V1_ListPodSandboxMetricsRequest,
    context: GRPCCore.ServerContext
  ) async throws -> Runtime_V1_ListPodSandboxMetricsResponse {
    var response = Runtime_V1_ListPodSandboxMetricsResponse()
    response.podMetrics = await podMetrics()
    return response
  }

  public func streamPodSandboxMetrics(
    request: Runtime_V1_StreamPodSandboxMetricsRequest,
    response: GRPCCore.RPCWriter<Runtime_V1_StreamPodSandboxMetricsResponse>,
    context: GRPCCore.ServerContext
  ) async throws {
    try await response.writeInBatches(await podMetrics()) { batch in
      Runtime_V1_StreamPodSandboxMetricsResponse.with { $0.podSandboxMetrics = batch }
    }
  }

  func podMetrics() async -> [Runtime_V1_PodSandboxMetrics] {
    let collector = StatsCollector(daemon: daemon)
    var result: [Runtime_V1_PodSandboxMetrics] = []
    for pod in daemon.pods.supervisor.index.all.map(\.record).sorted(by: { $0.createdAt < $1.createdAt }) {
      let (stats, cgroups) = await collector.podReadings(pod)
      var metrics = Runtime_V1_PodSandboxMetrics()
      metrics.podSandboxID = pod.id
      metrics.metrics = PodMetrics.pod(pod, network: stats.linux.hasNetwork ? stats.linux.network : nil)
      for containerStats in stats.linux.containers {
        guard let record = daemon.containers.supervisor.index.owner(containerStats.attributes.id)?.record else { continue }
        metrics.containerMetrics.append(PodMetrics.container(record, stats: containerStats, cgroup: cgroups[record.id]))
      }
      result.append(metrics)
    }
    return result
  }
}
