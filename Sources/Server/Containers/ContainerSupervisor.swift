import CRIAPI
import Logging
import Runtime
import Support

#if canImport(Glibc)
import Glibc
#endif

/// Containers' transitions: created → running → exited → removed, each
/// made by the container's owner under its lock, written through to the
/// journal, published to the in-memory index and announced as an event. A
/// transition that loses a race answers as CRI-O does: stop and remove of a
/// removed container succeed, anything else is NotFound; nothing removed is
/// ever written back.
final class ContainerSupervisor: Sendable {
  let owners: Owners<ContainerRecord, ContainerHandles>
  var index: OwnerIndex<ContainerOwner> { owners.index }
  var names: NameRegistry { owners.names }
  var creations: CreationRetries { owners.creations }
  var journal: Journal<ContainerRecord> { owners.journal }
  let events: ContainerEventHub
  let logger: Logger
  /// Whether the kernel's OOM killer struck in a container's cgroup.
  let oomKilledInCgroup: @Sendable (ContainerRecord) -> Bool
  /// How long the runtime may take to act on SIGKILL.
  let killTimeout: Duration
  /// OOM kills and lost monitors are counted here.
  let metrics: CrioMetrics

  init(
    journal: Journal<ContainerRecord>, events: ContainerEventHub, logger: Logger, killTimeout: Duration = .seconds(60),
    metrics: CrioMetrics = .disabled,
    oomKilledInCgroup: @escaping @Sendable (ContainerRecord) -> Bool = { _ in false }
  ) {
    owners = Owners(kind: "container", journal: journal, logger: logger)
    self.metrics = metrics
    self.events = events
    self.logger = logger
    self.killTimeout = killTimeout
    self.oomKilledInCgroup = oomKilledInCgroup
  }

  /// The owner of a container by ID or unique prefix; NotFound otherwise.
  func owner(_ idOrPrefix: String) throws(CRIError) -> ContainerOwner {
    guard let owner = try index.find(idOrPrefix) else { throw .notFound("container \"\(idOrPrefix)\" not found") }
    return owner
  }

  /// The pod's containers, oldest first.
  func owners(ofPod podID: String) -> [ContainerOwner] {
    index.all.filter { $0.record.podID == podID }.sorted { $0.record.createdAt < $1.record.createdAt }
  }

  // MARK: - create

  /// Takes over a container the runtime has just created: journal, index,
  /// CONTAINER_CREATED_EVENT. Called by the creation while it holds its
  /// pod's lock, so the pod cannot be removed in between.
  func register(_ record: ContainerRecord, layout: ContainerLayout, runtime: any ContainerRuntime) async throws(CRIError) {
    try await owners.register(ContainerOwner(record: record, layout: layout, runtime: runtime))
    events.publish(.containerCreatedEvent, record: record)
  }

  // MARK: - start

  func start(_ owner: ContainerOwner) async throws(CRIError) {
    try await owner.lock.withLock { () async throws(CRIError) in
      guard !owner.isRemoved else { throw CRIError.notFound("container \(owner.id) was removed") }
      var record = owner.record
      guard record.state == .created else {
        throw CRIError.failedPrecondition("container \(record.id) is \(record.state.rawValue); only a created container can be started")
      }
      // Taken before runc starts it: a short-lived process may have exited
      // (and conmon written its exit file) before runc returns.
      let startedAt = DaemonContext.now()
      do throws(RuntimeError) {
        try await owner.runtime.start(id: record.id)
      } catch {
        throw CRIError.runtime(error, "starting container \(record.id)")
      }
      record.state = .running
      record.startedAt = startedAt
      await write(record, to: owner)
      events.publish(.containerStartedEvent, record: record)
      logger.info("Started container", metadata: ["id": "\(record.id)", "name": "\(record.name)"])
    }
    // An exit that came while it was starting is applied now that it runs.
    if owner.layout.recordedExit() != nil { await exited(owner) }
  }

  // MARK: - exits

  /// The exit monitor saw conmon record `id`'s exit.
  func exited(id: String) async {
    guard let owner = index.owner(id) else { return }
    await exited(owner)
  }

  func exited(_ owner: ContainerOwner) async {
    owner.exit.signal()
    await owner.lock.withLock {
      guard !owner.isRemoved, owner.record.state != .exited, let exit = owner.layout.recordedExit() else { return }
      await applyExit(exit, to: owner)
    }
  }

  /// The container's process is gone with no exit recorded (its monitor
  /// died with it, or a reboot took both): exited with code 255, as CRI-O
  /// reports a container whose exit it cannot know.
  func lost(_ owner: ContainerOwner) async {
    await owner.lock.withLock {
      guard !owner.isRemoved, owner.record.state != .exited else { return }
      metrics.recordLostMonitor(container: owner.record.name)
      await applyExit(ContainerExit(code: 255, at: DaemonContext.now(), oomKilled: false), to: owner)
    }
  }

  /// Records the exit; the caller holds the owner's lock.
  private func applyExit(_ exit: ContainerExit, to owner: ContainerOwner) async {
    var record = owner.record
    record.state = .exited
    record.exitCode = exit.code
    // The file system's clock is coarser than ours; never finish before the start.
    record.finishedAt = max(exit.at, record.startedAt)
    record.paused = nil
    record.oomKilled = exit.oomKilled || oomKilledInCgroup(record)
    record.monitorLost = exit.monitorLost ? true : nil
    if exit.monitorLost { metrics.recordLostMonitor(container: record.name) }
    if record.oomKilled == true { metrics.recordOOMKill(container: record.name) }
    await write(record, to: owner)
    events.publish(.containerStoppedEvent, record: record)
    logger.info("Container exited", metadata: ["id": "\(record.id)", "exitCode": "\(exit.code)"])
  }

  // MARK: - stop

  /// Its stop signal, SIGKILL after `timeout`. Stopping an exited or
  /// removed container succeeds.
  func stop(_ owner: ContainerOwner, timeout: Duration) async throws(CRIError) {
    try await owner.lock.withLock { () async throws(CRIError) in
      guard !owner.isRemoved else { return }
      try await stopLocked(owner, timeout: timeout)
    }
  }

  private func stopLocked(_ owner: ContainerOwner, timeout: Duration) async throws(CRIError) {
    var record = owner.record
    if record.paused == true, record.state != .exited {
      // A frozen process acts on no signal, SIGKILL included, until it is thawed.
      do {
        try await owner.runtime.resume(id: record.id)
      } catch {
        logger.debug("Resuming before the stop failed", metadata: ["id": "\(record.id)", "error": "\(error)"])
      }
      record.paused = nil
      await write(record, to: owner)
    }
    switch record.state {
    case .exited:
      return
    case .created:
      // Never started: nothing to signal, but it counts as exited now.
      record.state = .exited
      record.finishedAt = DaemonContext.now()
      await write(record, to: owner)
      events.publish(.containerStoppedEvent, record: record)
      return
    case .running:
      break
    }
    if owner.layout.recordedExit() == nil, timeout > .zero {
      do {
        try await owner.runtime.kill(id: record.id, signal: record.stopSignal)
      } catch .notFound {
        throw CRIError.notFound("container \(record.id) is gone from the runtime")
      } catch {
        // It may have ended meanwhile ("container not running"): the exit file decides.
        logger.debug("Stop signal failed", metadata: ["id": "\(record.id)", "error": "\(error)"])
      }
      _ = await owner.exit.wait(timeout: timeout)
    }
    if owner.layout.recordedExit() == nil {
      do {
        try await owner.runtime.kill(id: record.id, signal: SIGKILL)
      } catch {
        logger.debug("SIGKILL failed", metadata: ["id": "\(record.id)", "error": "\(error)"])
      }
      _ = await owner.exit.wait(timeout: killTimeout)
    }
    guard let exit = owner.layout.recordedExit() else {
      throw CRIError.deadlineExceeded("container \(record.id) did not end within \(killTimeout) of SIGKILL")
    }
    await applyExit(exit, to: owner)
    logger.info("Stopped container", metadata: ["id": "\(record.id)", "exitCode": "\(exit.code)"])
  }

  // MARK: - pause

  /// Freezes it (the inspection API's `/pause/<id>`); only a running or
  /// created container can be paused, as in CRI-O.
  func pause(_ owner: ContainerOwner) async throws(CRIError) {
    try await setFrozen(owner, true)
  }

  /// Thaws a paused container (`/unpause/<id>`).
  func unpause(_ owner: ContainerOwner) async throws(CRIError) {
    try await setFrozen(owner, false)
  }

  private func setFrozen(_ owner: ContainerOwner, _ frozen: Bool) async throws(CRIError) {
    try await owner.lock.withLock { () async throws(CRIError) in
      guard !owner.isRemoved else { throw CRIError.notFound("can't find the container with id \(owner.id)") }
      var record = owner.record
      guard record.state != .exited, (record.paused == true) != frozen else {
        let wanted = frozen ? "running or created" : "paused"
        throw CRIError.failedPrecondition("container is not in \(wanted) state, now is \(record.crioStatus)")
      }
      do throws(RuntimeError) {
        if frozen {
          try await owner.runtime.pause(id: record.id)
        } else {
          try await owner.runtime.resume(id: record.id)
        }
      } catch {
        throw CRIError.runtime(error, "\(frozen ? "pausing" : "resuming") container \(record.id)")
      }
      record.paused = frozen ? true : nil
      await write(record, to: owner)
      logger.info(frozen ? "Paused container" : "Unpaused container", metadata: ["id": "\(record.id)"])
    }
  }

  // MARK: - remove

  /// Stops it at once and removes everything it had: runc's state, the
  /// overlay, the bundle, the upper layer, the exit file, the attach link,
  /// the journal entry. Removing a removed container succeeds.
  func remove(_ owner: ContainerOwner) async throws(CRIError) {
    try await owner.lock.withLock { () async throws(CRIError) in
      guard !owner.isRemoved else { return }
      let record = owner.record
      if record.state == .running, owner.layout.recordedExit() == nil {
        try await stopLocked(owner, timeout: .zero)
      } else if record.paused == true {
        // A created container paused: thawed, or runc's SIGKILL would wait.
        try? await owner.runtime.resume(id: record.id)
      }
      do throws(RuntimeError) {
        try await owner.runtime.delete(id: record.id, force: true)
      } catch {
        throw CRIError.runtime(error, "removing container \(record.id) from the runtime")
      }
      let layout = owner.layout
      // A writable layer can hold many files: removed off the cooperative pool.
      await Blocking.run {
        ContainerRootfs.unmount(layout.rootfs)
        IDMappedMounts.detachAll(in: layout.idmappedStaging)
        layout.removeFiles()
        Files.removeTree(record.layerDirectory)
      }
      if let monitorCgroup = record.monitorCgroupPath {
        await MonitorCgroup.remove(monitorCgroup, logger: logger)
      }
      try await owners.unregister(owner)
      events.publish(.containerDeletedEvent, record: record)
      logger.info("Removed container", metadata: ["id": "\(record.id)", "name": "\(record.name)"])
    }
  }

  // MARK: - update

  /// Runs `change` on a created or running container under its lock and
  /// records what it returns.
  func update(
    _ owner: ContainerOwner, _ change: (ContainerRecord) async throws(CRIError) -> ContainerRecord
  ) async throws(CRIError) {
    try await owner.lock.withLock { () async throws(CRIError) in
      guard !owner.isRemoved else { throw CRIError.notFound("container \(owner.id) was removed") }
      let record = owner.record
      guard record.state != .exited else {
        throw CRIError.failedPrecondition("container \(record.id) has exited; its resources can no longer be changed")
      }
      await write(try await change(record), to: owner)
    }
  }

  private func write(_ record: ContainerRecord, to owner: ContainerOwner) async {
    await owners.write(record, to: owner)
  }
}
