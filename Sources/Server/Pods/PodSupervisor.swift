import CRIAPI
import Logging
import PodNetwork
import Runtime
import Support
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A pod's owner (see `Owner`); its lock is also held while a container
/// is created in it (lock order: a pod's lock before its containers').
typealias PodOwner = Owner<PodSandbox, Void>

extension Owner where Handles == Void {
  convenience init(record: Record) { self.init(record: record, handles: ()) }
}

/// What tearing a pod down needs from the rest of the daemon, so the
/// supervisor can be driven without root in unit tests.
protocol PodTeardown: Sendable {
  /// CNI DEL (before the namespace goes: plugins find the pod's addresses in it).
  func detachNetwork(_ pod: PodSandbox) async throws(CRIError)
  /// Kills the pod's init (its shared PID namespace) or infra container,
  /// removes its runc state and unmounts the infra's root.
  func stopInit(_ pod: PodSandbox) async
  /// Unmounts and removes the pinned namespaces and the shm mount.
  func releaseNamespaces(_ pod: PodSandbox) throws(CRIError)
  /// Removes the pod's cgroup parent (when this daemon made it and no pod uses it).
  func removeCgroup(_ parent: String) async
  /// Ends what the pod's runtime runs per pod (its pod monitor), once its
  /// containers have stopped.
  func stopRuntime(_ pod: PodSandbox) async
}

/// Pods' transitions: ready → not ready → removed, made under the pod's
/// lock and written through to the journal. Stopping twice, or stopping
/// and removing at once, does each step once: the second caller waits for
/// the lock and finds the work done.
final class PodSupervisor: Sendable {
  let owners: Owners<PodSandbox, Void>
  var index: OwnerIndex<PodOwner> { owners.index }
  var names: NameRegistry { owners.names }
  var creations: CreationRetries { owners.creations }
  var journal: Journal<PodSandbox> { owners.journal }
  let containers: ContainerSupervisor
  let teardown: any PodTeardown
  let logger: Logger
  /// Cgroup parents this daemon made for pods (kubelet names parents that
  /// usually exist; one that did not is removed with its last pod).
  private let madeCgroupParents = Mutex<Set<String>>([])

  init(journal: Journal<PodSandbox>, containers: ContainerSupervisor, teardown: any PodTeardown, logger: Logger) {
    owners = Owners(kind: "pod sandbox", journal: journal, logger: logger)
    self.containers = containers
    self.teardown = teardown
    self.logger = logger
  }

  func owner(_ idOrPrefix: String) throws(CRIError) -> PodOwner {
    guard let owner = try index.find(idOrPrefix) else { throw .notFound("pod sandbox \"\(idOrPrefix)\" not found") }
    return owner
  }

  /// Takes over a pod whose creation has finished.
  func register(_ pod: PodSandbox) async throws(CRIError) {
    try await owners.register(PodOwner(record: pod))
    noteCgroupParent(pod)
  }

  /// Restores a pod from the journal at start-up.
  func restore(_ pod: PodSandbox) {
    owners.restore(PodOwner(record: pod))
    noteCgroupParent(pod)
  }

  private func noteCgroupParent(_ pod: PodSandbox) {
    if pod.ownsCgroupParent == true, let parent = pod.cgroupParent {
      madeCgroupParents.withLock { _ = $0.insert(parent) }
    }
  }

  /// Whether this daemon made `parent` for an earlier pod: a new pod using
  /// it shares the duty to remove it, so the duty survives any one of them
  /// (and a restart: it is in each of their records).
  func madeCgroupParent(_ parent: String) -> Bool {
    madeCgroupParents.withLock { $0.contains(parent) }
  }

  /// Runs `body` with the pod's lock held (creating a container in it): a
  /// pod that is being stopped or removed is waited for, and one that was
  /// removed meanwhile is NotFound.
  func withPod<T: Sendable>(_ owner: PodOwner, _ body: (PodSandbox) async throws -> T) async throws -> T {
    try await owner.lock.withLock {
      guard !owner.isRemoved else { throw CRIError.notFound("pod sandbox \(owner.id) was removed") }
      return try await body(owner.record)
    }
  }

  // MARK: - stop

  /// Stops the pod's containers (CRI-O's 10 seconds each: kubelet has
  /// already stopped them with the pod's grace period), then releases what
  /// the pod holds: network, init or infra, namespaces, shm. Stopping a stopped or
  /// removed pod succeeds.
  func stop(_ owner: PodOwner) async throws(CRIError) {
    try await owner.lock.withLock { () async throws(CRIError) in
      guard !owner.isRemoved else { return }
      try await stopLocked(owner)
    }
  }

  private func stopLocked(_ owner: PodOwner) async throws(CRIError) {
    let containers = self.containers
    do {
      try await withThrowingTaskGroup(of: Void.self) { group in
        for container in containers.owners(ofPod: owner.id) {
          group.addTask { try await containers.stop(container, timeout: .seconds(10)) }
        }
        try await group.waitForAll()
      }
    } catch let error as CRIError {
      throw error
    } catch {
      throw .internal("stopping the containers of pod \(owner.id): \(error)")
    }
    var pod = owner.record
    guard pod.state == .ready else { return }
    await teardown.stopRuntime(pod)
    if pod.network != nil {
      try await teardown.detachNetwork(pod)
      pod.network = nil
      await write(pod, to: owner)
    }
    if pod.namespaces.pidInit != nil || pod.infra != nil { await teardown.stopInit(pod) }
    try teardown.releaseNamespaces(pod)
    pod.state = .notReady
    pod.namespaces = PinnedNamespaces()
    await write(pod, to: owner)
    logger.info("Stopped pod sandbox", metadata: ["id": "\(pod.id)", "name": "\(pod.name)"])
  }

  // MARK: - remove

  /// Stops the pod, removes its containers, its files and its record.
  /// Removing a removed pod succeeds.
  func remove(_ owner: PodOwner) async throws(CRIError) {
    let removed = try await owner.lock.withLock { () async throws(CRIError) -> PodSandbox? in
      guard !owner.isRemoved else { return nil }
      try await stopLocked(owner)
      for container in containers.owners(ofPod: owner.id) {
        try await containers.remove(container)
      }
      let pod = owner.record
      await Blocking.run {
        Files.removeTree(pod.directory)
        if let logs = pod.ownedLogDirectory { Files.removeTree(logs) }
      }
      try await owners.unregister(owner)
      logger.info("Removed pod sandbox", metadata: ["id": "\(pod.id)", "name": "\(pod.name)"])
      return pod
    }
    // Outside the lock: the last pod using a cgroup parent this daemon
    // made removes it (of pods removed at once, the last to get here).
    if let parent = removed?.cgroupParent, madeCgroupParents.withLock({ $0.contains(parent) }),
      !index.all.contains(where: { $0.record.cgroupParent == parent })
    {
      madeCgroupParents.withLock { _ = $0.remove(parent) }
      await teardown.removeCgroup(parent)
    }
  }

  private func write(_ pod: PodSandbox, to owner: PodOwner) async {
    await owners.write(pod, to: owner)
  }
}
