import BuildInfo
import CRIAPI
import Config
import Logging
import PodNetwork
import Runtime
import Storage
import Support
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// What every CRI handler shares: the configuration the daemon started with,
/// its logger, the runtime-wide state, the image stores, and the pods' and
/// containers' supervisors.
public final class DaemonContext: Sendable {
  /// The configuration now in force: the one the daemon started with, with
  /// what SIGHUP reloaded (see ConfigReload). Read it where it is used.
  public var config: CrioConfig { current.withLock { $0 } }
  private let current: Mutex<CrioConfig>
  public let logger: Logger
  public let state: RuntimeState
  public let images: ImageContext
  let pods: PodContext
  let containers: ContainerContext
  let network: NetworkContext
  let events: ContainerEventHub
  /// The previous CPU reading of each container and pod, for usage rates.
  let stats = CPUUsageRates()
  /// Stats kept for `[crio.stats]`'s period.
  let statsCache: StatsCache
  /// `[crio.metrics]`: what is counted (nothing when metrics are off).
  let metrics: CrioMetrics

  /// Opens the image stores and reads the registry configuration; throws
  /// (and the daemon does not start) when they cannot be used. The pods and
  /// containers of the journal are not restored yet: `restore()` does that.
  public init(config: CrioConfig, logger: Logger, state: RuntimeState = RuntimeState()) async throws {
    current = Mutex(config)
    self.logger = logger
    self.state = state
    statsCache = StatsCache(
      seconds: config.stats.collectionPeriod > 0 ? config.stats.collectionPeriod : config.stats.statsCollectionPeriod)
    let metrics = CrioMetrics(config: config.metrics, logger: logger)
    self.metrics = metrics
    images = try ImageContext(config: config, logger: logger, metrics: metrics)
    let network = NetworkContext(config: config, logger: logger)
    self.network = network
    events = ContainerEventHub(enabled: config.runtime.enablePodEvents) { metrics.recordDroppedEvents($0) }
    do {
      let database = images.records.database
      let containerSupervisor = ContainerSupervisor(
        journal: Journal(database: database), events: events, logger: logger, metrics: metrics,
        oomKilledInCgroup: ContainerContext.oomKilledInCgroup)
      containers = try ContainerContext(config: config, supervisor: containerSupervisor, logger: logger)
      let teardown = DaemonPodTeardown(
        network: network, runtimes: containers.runtimes, cgroups: ContainerContext.hostCgroups, logger: logger)
      pods = try PodContext(
        config: config,
        supervisor: PodSupervisor(journal: Journal(database: database), containers: containerSupervisor, teardown: teardown, logger: logger))
    } catch {
      await images.shutdown()
      throw error
    }
    let podIndex = pods.supervisor.index
    let containerIndex = containers.supervisor.index
    events.setStatusSource { record in
      let pod = podIndex.owner(record.podID)?.record
      let statuses = containerIndex.all.map(\.record).filter { $0.podID == record.podID }
        .sorted { $0.createdAt < $1.createdAt }.map { $0.criStatus() }
      return (pod?.criStatus(), statuses)
    }
  }

  /// Puts a reloaded configuration in force (ConfigReload applied its effects).
  func apply(_ config: CrioConfig) {
    current.withLock { $0 = config }
  }

  /// A container's owner by ID or unique prefix; NotFound otherwise.
  func container(_ idOrPrefix: String) throws(CRIError) -> ContainerOwner {
    try containers.supervisor.owner(idOrPrefix)
  }

  /// A running container's owner (exec, attach, log reopening).
  func runningContainer(_ idOrPrefix: String) throws(CRIError) -> ContainerOwner {
    let owner = try container(idOrPrefix)
    guard owner.record.state == .running else {
      throw .failedPrecondition("container \(owner.id) is not running")
    }
    return owner
  }

  /// A pod by ID or unique prefix, as it is now; NotFound otherwise.
  func pod(_ idOrPrefix: String) throws(CRIError) -> PodSandbox {
    try pods.supervisor.owner(idOrPrefix).record
  }

  /// A pod that must still have its namespaces (streaming into it).
  func readyPod(_ idOrPrefix: String) throws(CRIError) -> PodSandbox {
    let pod = try pod(idOrPrefix)
    guard pod.state == .ready else {
      throw .failedPrecondition("pod sandbox \(pod.id) is not ready")
    }
    return pod
  }

  /// The pod's containers, as they are now.
  func containers(of podID: String) -> [ContainerRecord] {
    containers.supervisor.owners(ofPod: podID).map(\.record)
  }

  static func now() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
  }

  /// The `info` map of a verbose Status, as `crictl info` prints it: each value
  /// is a JSON document.
  func verboseInfo() async -> [String: String] {
    let runtime = JSONValue.object([
      ("name", .string(ProjectVersion.runtimeName)),
      ("version", .string(ProjectVersion.version)),
      ("gitCommit", .string(BuildInfo.gitCommit)),
      ("criAPI", .string(ProjectVersion.criAPIRelease)),
      ("podCIDR", .string(await state.podCIDR)),
      ("cgroupDriver", .string(config.runtime.cgroupManager.rawValue)),
      ("defaultRuntime", .string(config.runtime.defaultRuntime)),
    ])
    return ["config": config.renderJSON(), "runtime": runtime.rendered()]
  }

  /// CRI-O's `/info` document, which cAdvisor reads to find container storage.
  func inspectInfo() -> JSONValue {
    let identity = JSONValue.array([.object([("container_id", .int(0)), ("host_id", .int(0)), ("size", .int(4_294_967_295))])])
    return .object([
      ("storage_driver", .string(config.storageDriver)),
      ("storage_image", .string("")),
      ("storage_root", .string(config.root)),
      ("cgroup_driver", .string(config.runtime.cgroupManager.rawValue)),
      // No user namespace of the daemon's own: the identity mapping, as CRI-O reports it.
      ("default_id_mappings", .object([("uids", identity), ("gids", identity)])),
    ])
  }
}

/// Tearing pods down with the real network, runc and mounts.
struct DaemonPodTeardown: PodTeardown {
  let network: NetworkContext
  let runtimes: RuntimeTable
  let cgroups: CgroupLayout?
  let logger: Logger

  func detachNetwork(_ pod: PodSandbox) async throws(CRIError) {
    do {
      try await network.cni.delete(network: nil, pod: NetworkContext.podInfo(pod), netnsPath: pod.namespaces.network)
    } catch {
      throw .internal("tearing down the network of pod \(pod.id): \(error)")
    }
  }

  func stopRuntime(_ pod: PodSandbox) async {
    await runtimes[pod.runtimeHandler]?.stopPod(pod.runtimeContext)
    if let cgroup = pod.monitorCgroup { await MonitorCgroup.remove(cgroup, logger: logger) }
  }

  func stopInit(_ pod: PodSandbox) async {
    do {
      guard let runtime = runtimes[pod.runtimeHandler] else {
        throw CRIError.failedPrecondition("runtime handler \"\(pod.runtimeHandler)\" is not configured")
      }
      try await runtime.delete(id: pod.id, force: true)
    } catch {
      logger.warning("Cannot remove the pod's init", metadata: ["pod": "\(pod.id)", "error": "\(error)"])
    }
    if let infra = pod.infra { ContainerRootfs.unmount(infra.rootfs) }
  }

  func releaseNamespaces(_ pod: PodSandbox) throws(CRIError) {
    do {
      try NamespacePinner.unpin(pod.namespaces)
    } catch {
      throw .internal("stopping pod \(pod.id): \(error)")
    }
    if let shm = pod.shmPath { PodFiles.unmount(shm) }
  }

  func removeCgroup(_ parent: String) async {
    do {
      try await cgroups?.removeCgroup(relativePath: parent)
    } catch {
      logger.warning("Cannot remove the pod's cgroup", metadata: ["cgroup": "\(parent)", "error": "\(error)"])
    }
  }
}
