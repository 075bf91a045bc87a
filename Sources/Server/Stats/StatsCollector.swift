import CRIAPI
import PodNetwork
import Runtime
import Storage
import Support
import SwiftProtobuf

/// The numbers kubelet's stats calls ask for, read from the containers'
/// cgroups, their writable layers and the pods' network namespaces. CPU
/// usage rates (nano cores) need the previous reading of each container,
/// which `rates` keeps between calls.
actor CPUUsageRates {
  private var rates: [String: CPUUsageRate] = [:]

  /// Records `sample` for `id`; the rate since the previous sample, if any.
  func record(_ id: String, _ sample: CPUUsageSample) -> UInt64? {
    var rate = rates[id] ?? CPUUsageRate()
    let nanoCores = rate.record(sample)
    rates[id] = rate
    return nanoCores
  }

  /// Drops the readings of records that are gone.
  func keep(only ids: Set<String>) {
    rates = rates.filter { ids.contains($0.key) }
  }
}

struct StatsCollector {
  let daemon: DaemonContext

  static func uint64(_ value: UInt64?) -> Runtime_V1_UInt64Value? {
    value.map { number in .with { $0.value = number } }
  }

  func containerStats(_ record: ContainerRecord) async -> Runtime_V1_ContainerStats {
    await daemon.statsCache.container(record.id) { await containerStats(record, cgroup: cgroupStats(record)) }
  }

  /// The stats from a cgroup reading the caller already has.
  func containerStats(_ record: ContainerRecord, cgroup: ContainerCgroupStats?) async -> Runtime_V1_ContainerStats {
    let config = record.configMessage
    var stats = Runtime_V1_ContainerStats()
    stats.attributes = .with {
      $0.id = record.id
      $0.metadata = config.metadata
      $0.labels = config.labels
      $0.annotations = config.annotations
    }
    if let cgroup {
      stats.cpu = await cpuUsage(cgroup, key: record.id)
      stats.memory = memoryUsage(cgroup)
      if let swap = cgroup.swapUsageBytes {
        stats.swap = .with {
          $0.timestamp = cgroup.timestamp
          $0.swapUsageBytes = .with { $0.value = swap }
        }
      }
    }
    // The overlay's upper directory is what the container wrote.
    let usage = DiskUsage.of(record.layerDirectory + "/upper")
    stats.writableLayer = .with {
      $0.timestamp = DaemonContext.now()
      $0.fsID.mountpoint = record.layerDirectory
      $0.usedBytes = .with { $0.value = usage.bytes }
      $0.inodesUsed = .with { $0.value = usage.inodes }
    }
    return stats
  }

  func cgroupStats(_ record: ContainerRecord) -> ContainerCgroupStats? {
    guard let path = record.cgroupPath, let layout = daemon.containers.cgroups else { return nil }
    return try? CgroupStats(layout: layout).read(relativePath: path)
  }

  func cpuUsage(_ cgroup: ContainerCgroupStats, key: String) async -> Runtime_V1_CpuUsage {
    var cpu = Runtime_V1_CpuUsage()
    cpu.timestamp = cgroup.timestamp
    if let used = Self.uint64(cgroup.cpuUsageCoreNanoSeconds) { cpu.usageCoreNanoSeconds = used }
    if let sample = cgroup.cpuSample, let rate = Self.uint64(await daemon.stats.record(key, sample)) {
      cpu.usageNanoCores = rate
    }
    return cpu
  }

  func memoryUsage(_ cgroup: ContainerCgroupStats) -> Runtime_V1_MemoryUsage {
    var memory = Runtime_V1_MemoryUsage()
    memory.timestamp = cgroup.timestamp
    if let value = Self.uint64(cgroup.memoryWorkingSetBytes) { memory.workingSetBytes = value }
    if let value = Self.uint64(cgroup.memoryAvailableBytes) { memory.availableBytes = value }
    if let value = Self.uint64(cgroup.memoryUsageBytes) { memory.usageBytes = value }
    if let value = Self.uint64(cgroup.memoryRSSBytes) { memory.rssBytes = value }
    if let value = Self.uint64(cgroup.pageFaults) { memory.pageFaults = value }
    if let value = Self.uint64(cgroup.majorPageFaults) { memory.majorPageFaults = value }
    return memory
  }

  /// A pod's figures: its containers' sums, its network namespace's
  /// interfaces (read through a process inside it), its process count.
  func podStats(_ pod: PodSandbox) async -> Runtime_V1_PodSandboxStats {
    await daemon.statsCache.pod(pod.id) { await podReadings(pod).stats }
  }

  /// The pod's stats and the cgroup reading of each container (by ID),
  /// each cgroup read once (ListPodSandboxMetrics needs both).
  func podReadings(_ pod: PodSandbox) async -> (stats: Runtime_V1_PodSandboxStats, cgroups: [String: ContainerCgroupStats]) {
    let config = pod.configMessage
    let containers = daemon.containers(of: pod.id)
    var linux = Runtime_V1_LinuxPodSandboxStats()
    var readings: [String: ContainerCgroupStats] = [:]
    var cgroups: [ContainerCgroupStats] = []
    for record in containers.sorted(by: { $0.createdAt < $1.createdAt }) {
      let current = record
      let cgroup = cgroupStats(current)
      readings[current.id] = cgroup
      linux.containers.append(await containerStats(current, cgroup: cgroup))
      if current.state == .running, let cgroup { cgroups.append(cgroup) }
    }
    let now = DaemonContext.now()
    func sum(_ field: (ContainerCgroupStats) -> UInt64?) -> UInt64? {
      let values = cgroups.compactMap(field)
      return values.isEmpty ? nil : values.reduce(0, +)
    }
    var total = ContainerCgroupStats(timestamp: now)
    total.cpuUsageCoreNanoSeconds = sum(\.cpuUsageCoreNanoSeconds)
    total.memoryUsageBytes = sum(\.memoryUsageBytes)
    total.memoryWorkingSetBytes = sum(\.memoryWorkingSetBytes)
    total.memoryRSSBytes = sum(\.memoryRSSBytes)
    total.pageFaults = sum(\.pageFaults)
    total.majorPageFaults = sum(\.majorPageFaults)
    linux.cpu = await cpuUsage(total, key: "pod:" + pod.id)
    linux.memory = memoryUsage(total)
    linux.process = .with {
      $0.timestamp = now
      $0.processCount = .with { $0.value = sum(\.pidsCurrent) ?? 0 }
    }
    if let network = networkUsage(pod, containers: containers) { linux.network = network }
    let stats = Runtime_V1_PodSandboxStats.with {
      $0.attributes = .with {
        $0.id = pod.id
        $0.metadata = config.metadata
        $0.labels = config.labels
        $0.annotations = config.annotations
      }
      $0.linux = linux
    }
    return (stats, readings)
  }

  /// /proc/<pid>/net/dev of a process in the pod's network namespace: a
  /// running container's, or the pod's PID-namespace init.
  func networkUsage(_ pod: PodSandbox, containers: [ContainerRecord]) -> Runtime_V1_NetworkUsage? {
    guard pod.namespaces.network != nil else { return nil }
    let candidates = containers.filter { $0.state == .running && $0.pid > 0 }.map(\.pid)
      + [pod.namespaces.pidInit?.pid].compactMap { $0 }
    for pid in candidates {
      guard let interfaces = try? NetworkStats.read(pid: pid) else { continue }
      let usage = interfaces.map { interface in
        Runtime_V1_NetworkInterfaceUsage.with {
          $0.name = interface.name
          $0.rxBytes = .with { $0.value = interface.rxBytes }
          $0.rxErrors = .with { $0.value = interface.rxErrors }
          $0.txBytes = .with { $0.value = interface.txBytes }
          $0.txErrors = .with { $0.value = interface.txErrors }
        }
      }
      return .with {
        $0.timestamp = DaemonContext.now()
        if let primary = NetworkStats.primary(interfaces), let entry = usage.first(where: { $0.name == primary.name }) {
          $0.defaultInterface = entry
        }
        $0.interfaces = usage.filter { $0.name != "lo" }
      }
    }
    return nil
  }
}
