import CRIAPI

/// `[crio.stats]`: with a period (`collection_period`, else CRI-O 1.26's
/// `stats_collection_period`), a container's or pod's stats are read at most
/// once per period and served from here in between, so a busy kubelet or
/// several scrapers cost one cgroup reading each period. Refreshed when asked
/// for after the period passed, rather than by a timer nobody may need.
actor StatsCache {
  let period: Duration?
  private var containers: [String: (at: ContinuousClock.Instant, stats: Runtime_V1_ContainerStats)] = [:]
  private var pods: [String: (at: ContinuousClock.Instant, stats: Runtime_V1_PodSandboxStats)] = [:]

  /// `seconds` of 0 collects on demand (nothing is kept).
  init(seconds: Int) {
    period = seconds > 0 ? .seconds(seconds) : nil
  }

  func container(_ id: String, read: () async -> Runtime_V1_ContainerStats) async -> Runtime_V1_ContainerStats {
    guard let period else { return await read() }
    if let cached = containers[id], ContinuousClock.now - cached.at < period { return cached.stats }
    let stats = await read()
    containers[id] = (.now, stats)
    return stats
  }

  func pod(_ id: String, read: () async -> Runtime_V1_PodSandboxStats) async -> Runtime_V1_PodSandboxStats {
    guard let period else { return await read() }
    if let cached = pods[id], ContinuousClock.now - cached.at < period { return cached.stats }
    let stats = await read()
    pods[id] = (.now, stats)
    return stats
  }

  /// Drops what belongs to containers and pods that are gone.
  func keep(containers containerIDs: Set<String>, pods podIDs: Set<String>) {
    containers = containers.filter { containerIDs.contains($0.key) }
    pods = pods.filter { podIDs.contains($0.key) }
  }
}
