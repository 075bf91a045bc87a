import CRIAPI
import Runtime
import SwiftProtobuf

/// cAdvisor-style metrics (the names kubelet's /metrics/cadvisor publishes
/// when it takes them from the runtime), with CRI-O's label keys: the
/// runtime's `id` and `image`, then kubernetes' `namespace`, `pod` and
/// `container`, and per metric an extra key where cAdvisor has one.
enum PodMetrics {
  static let baseLabelKeys = ["id", "image", "namespace", "pod", "container"]

  struct Definition: Sendable {
    let name: String
    let help: String
    let extraLabelKeys: [String]
    let type: Runtime_V1_MetricType
  }

  static let definitions: [Definition] = [
    Definition(name: "container_cpu_usage_seconds_total", help: "Cumulative CPU time consumed in seconds.", extraLabelKeys: ["cpu"], type: .counter),
    Definition(name: "container_memory_usage_bytes", help: "Current memory usage in bytes, including all memory regardless of when it was accessed.", extraLabelKeys: [], type: .gauge),
    Definition(name: "container_memory_working_set_bytes", help: "Current working set in bytes.", extraLabelKeys: [], type: .gauge),
    Definition(name: "container_memory_rss", help: "Size of RSS in bytes.", extraLabelKeys: [], type: .gauge),
    Definition(name: "container_oom_events_total", help: "Count of out of memory events observed for the container.", extraLabelKeys: [], type: .counter),
    Definition(name: "container_processes", help: "Number of processes running inside the container.", extraLabelKeys: [], type: .gauge),
    Definition(name: "container_fs_usage_bytes", help: "Number of bytes that are consumed by the container on this filesystem.", extraLabelKeys: [], type: .gauge),
    Definition(name: "container_network_receive_bytes_total", help: "Cumulative count of bytes received.", extraLabelKeys: ["interface"], type: .counter),
    Definition(name: "container_network_transmit_bytes_total", help: "Cumulative count of bytes transmitted.", extraLabelKeys: ["interface"], type: .counter),
  ]

  static var descriptors: [Runtime_V1_MetricDescriptor] {
    definitions.map { definition in
      .with {
        $0.name = definition.name
        $0.help = definition.help
        $0.labelKeys = baseLabelKeys + definition.extraLabelKeys
      }
    }
  }

  static func metric(_ name: String, _ value: UInt64?, labels: [String], extra: [String] = []) -> Runtime_V1_Metric? {
    guard let value, let definition = definitions.first(where: { $0.name == name }) else { return nil }
    return .with {
      $0.name = name
      $0.timestamp = DaemonContext.now()
      $0.metricType = definition.type
      $0.labelValues = labels + extra
      $0.value = .with { $0.value = value }
    }
  }

  /// One container's metrics from its cgroup and writable layer.
  static func container(_ record: ContainerRecord, stats: Runtime_V1_ContainerStats, cgroup: ContainerCgroupStats?) -> Runtime_V1_ContainerMetrics {
    let labels = [record.id, record.imageRef, "", "", record.configMessage.metadata.name]
    let metrics: [Runtime_V1_Metric?] = [
      metric("container_cpu_usage_seconds_total", cgroup?.cpuUsageCoreNanoSeconds.map { $0 / 1_000_000_000 }, labels: labels, extra: ["total"]),
      metric("container_memory_usage_bytes", cgroup?.memoryUsageBytes, labels: labels),
      metric("container_memory_working_set_bytes", cgroup?.memoryWorkingSetBytes, labels: labels),
      metric("container_memory_rss", cgroup?.memoryRSSBytes, labels: labels),
      metric("container_oom_events_total", cgroup?.oomKillCount, labels: labels),
      metric("container_processes", cgroup?.pidsCurrent, labels: labels),
      metric("container_fs_usage_bytes", stats.hasWritableLayer ? stats.writableLayer.usedBytes.value : nil, labels: labels),
    ]
    return .with {
      $0.containerID = record.id
      $0.metrics = metrics.compactMap { $0 }
    }
  }

  /// The pod's own metrics: its network interfaces.
  static func pod(_ pod: PodSandbox, network: Runtime_V1_NetworkUsage?) -> [Runtime_V1_Metric] {
    let metadata = pod.configMessage.metadata
    let labels = [pod.id, "", metadata.namespace, metadata.name, "POD"]
    return (network?.interfaces ?? []).flatMap { interface in
      [
        metric("container_network_receive_bytes_total", interface.rxBytes.value, labels: labels, extra: [interface.name]),
        metric("container_network_transmit_bytes_total", interface.txBytes.value, labels: labels, extra: [interface.name]),
      ].compactMap { $0 }
    }
  }
}
