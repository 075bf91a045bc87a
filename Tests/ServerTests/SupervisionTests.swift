import CRIAPI
import Logging
import OCI
import PodNetwork
import Runtime
import Storage
import Support
import Synchronization
import Testing

@testable import Server

#if canImport(Glibc)
import Glibc
#endif

/// The supervision core without root or runc: a fake `ContainerRuntime`
/// that records calls and writes exit files as conmon would, a journal in
/// a temporary SQLite database, and the real supervisors.
@Suite struct SupervisionTests {
  /// A runtime that keeps containers in memory. `kill` ends the container
  /// (writes its exit file, 128 + signal) and tells the supervisor, as the
  /// exit monitor would; `startDelay` holds `start` open to widen races.
  final class FakeRuntime: ContainerRuntime {
    let exitsDirectory: String
    let calls = Mutex<[String]>([])
    let running = Mutex<Set<String>>([])
    let startDelay: Duration
    let onExit = Mutex<(@Sendable (String) async -> Void)?>(nil)

    init(exitsDirectory: String, startDelay: Duration = .zero) {
      self.exitsDirectory = exitsDirectory
      self.startDelay = startDelay
    }

    func layout(id: String, bundle: String) -> ContainerLayout {
      ContainerLayout(id: id, bundle: bundle, exitsDirectory: exitsDirectory, attachDirectory: exitsDirectory + "/attach")
    }

    private func note(_ call: String) { calls.withLock { $0.append(call) } }

    func create(_ request: CreateRequest) async throws(RuntimeError) -> ContainerProcess {
      note("create \(request.layout.id)")
      return ContainerProcess(id: request.layout.id, pid: 1, conmonPid: nil)
    }

    func start(id: String) async throws(RuntimeError) {
      note("start \(id)")
      if startDelay > .zero { try? await Task.sleep(for: startDelay) }
      running.withLock { _ = $0.insert(id) }
    }

    func kill(id: String, signal: Int32) async throws(RuntimeError) {
      note("kill \(id) \(signal)")
      guard running.withLock({ $0.remove(id) }) != nil else {
        throw .runtimeFailed(id: id, operation: "kill", status: 1, stderr: "container not running")
      }
      exit(id, code: 128 + signal)
      // As the exit monitor does: on its own, not inside the runtime call.
      if let onExit = onExit.withLock({ $0 }) { Task { await onExit(id) } }
    }

    /// The container's process ends by itself.
    func exit(_ id: String, code: Int32) {
      running.withLock { _ = $0.remove(id) }
      try? Files.write(exitsDirectory + "/" + id, "\(code)")
    }

    func delete(id: String, force: Bool) async throws(RuntimeError) { note("delete \(id)") }
    func state(id: String) async throws(RuntimeError) -> Runtime.RuntimeState { throw .notFound(id: id) }
    func containerIDs() -> [String] { [] }
    func execSync(id: String, command: [String], timeout: Duration) async throws(RuntimeError) -> ExecResult {
      ExecResult(exitCode: 0, stdout: [], stderr: [], timedOut: false)
    }
    func startExec(id: String, command: [String], tty: Bool, stdin: Bool) throws(RuntimeError) -> ExecSession {
      throw .notFound(id: id)
    }
    func update(id: String, resources: Spec.Resources) async throws(RuntimeError) { note("update \(id)") }
    func pause(id: String) async throws(RuntimeError) { note("pause \(id)") }
    func resume(id: String) async throws(RuntimeError) { note("resume \(id)") }
    func control(_ layout: ContainerLayout, _ request: ConmonControl.Request) throws(RuntimeError) {}
    func runUnmonitored(id: String, bundle: OCIBundle) async throws(RuntimeError) -> Int32 { 1 }
  }

  /// Pod teardown that counts what it was asked to do.
  final class CountingTeardown: PodTeardown {
    let counts = Mutex<[String: Int]>([:])
    private func count(_ what: String) { counts.withLock { $0[what, default: 0] += 1 } }
    func detachNetwork(_ pod: PodSandbox) async throws(CRIError) {
      count("network")
      try? await Task.sleep(for: .milliseconds(5))
    }
    func stopInit(_ pod: PodSandbox) async { count("init") }
    func stopRuntime(_ pod: PodSandbox) async { count("runtime") }
    func releaseNamespaces(_ pod: PodSandbox) throws(CRIError) { count("namespaces") }
    func removeCgroup(_ parent: String) async { count("cgroup") }
  }

  /// A temporary directory, a database with the daemon's tables, the
  /// supervisors and an event subscriber.
  final class Bed: Sendable {
    let directory: String
    let store: ImageStore
    let runtime: FakeRuntime
    let events = ContainerEventHub(enabled: true)
    let containers: ContainerSupervisor
    let pods: PodSupervisor
    let teardown = CountingTeardown()

    init(startDelay: Duration = .zero) throws {
      directory = try Files.makeTemporaryDirectory(prefix: "crio-sup")
      store = try ImageStore(path: directory + "/images.db") { migrations in
        Journal<PodSandbox>.registerMigration(in: &migrations, version: "server-v1")
        Journal<ContainerRecord>.registerMigration(in: &migrations, version: "server-v2")
      }
      try Files.makeDirectories(directory + "/exits", mode: 0o700)
      runtime = FakeRuntime(exitsDirectory: directory + "/exits", startDelay: startDelay)
      containers = ContainerSupervisor(
        journal: Journal(database: store.database), events: events, logger: Logger(label: "test"), killTimeout: .seconds(5))
      pods = PodSupervisor(journal: Journal(database: store.database), containers: containers, teardown: teardown, logger: Logger(label: "test"))
      let supervisor = containers
      runtime.onExit.withLock { $0 = { id in await supervisor.exited(id: id) } }
    }

    deinit { Files.removeTree(directory) }

    func pod(_ name: String = "p") async throws -> PodOwner {
      let pod = PodSandbox(
        id: PodContext.newID(), name: name, config: [], runtimeHandler: "fake", createdAt: DaemonContext.now(), state: .ready,
        namespaces: PinnedNamespaces(network: "/nonexistent"), directory: directory + "/pod-" + name, hostname: name,
        network: PodNetworkStatus(networkName: "n", ips: ["10.0.0.2"]))
      try await pods.register(pod)
      return try #require(pods.index.owner(pod.id))
    }

    func container(in pod: PodOwner, _ name: String = "c") async throws -> ContainerOwner {
      let id = PodContext.newID()
      let record = ContainerRecord(
        id: id, name: name + id, podID: pod.id, config: [], imageID: "", imageRef: "", runtimeHandler: "fake",
        bundle: directory + "/bundles/" + id, layerDirectory: directory + "/layers/" + id, logPath: "", state: .created,
        pid: 1, createdAt: DaemonContext.now(), startedAt: 0, finishedAt: 0, exitCode: 0, stopSignal: SIGTERM)
      try await containers.register(record, layout: runtime.layout(id: id, bundle: record.bundle), runtime: runtime)
      return try #require(containers.index.owner(id))
    }

    func journaledContainers() throws -> [ContainerRecord] { try containers.journal.load() }
  }

  @Test func aContainerGoesThroughItsStatesAndAnnouncesEach() async throws {
    let bed = try Bed()
    let subscription = bed.events.subscribe()
    let pod = try await bed.pod()
    let owner = try await bed.container(in: pod)
    try await bed.containers.start(owner)
    #expect(owner.record.state == .running && owner.record.startedAt > 0)
    bed.runtime.exit(owner.id, code: 3)
    await bed.containers.exited(id: owner.id)
    #expect(owner.record.state == .exited && owner.record.exitCode == 3)
    #expect(try bed.journaledContainers().first?.state == .exited, "each transition is journaled")
    try await bed.containers.remove(owner)
    #expect(bed.containers.index.all.isEmpty && owner.isRemoved)
    #expect(try bed.journaledContainers().isEmpty)
    var types: [Runtime_V1_ContainerEventType] = []
    for try await event in subscription {
      types.append(event.containerEventType)
      if types.count == 4 { break }
    }
    #expect(types == [.containerCreatedEvent, .containerStartedEvent, .containerStoppedEvent, .containerDeletedEvent])
  }

  @Test func startingTwiceOrAfterRemovalAnswersAsCRIO() async throws {
    let bed = try Bed()
    let owner = try await bed.container(in: try await bed.pod())
    try await bed.containers.start(owner)
    await #expect(throws: CRIError.self) { try await bed.containers.start(owner) }
    try await bed.containers.remove(owner)
    do {
      try await bed.containers.start(owner)
      Issue.record("a removed container started")
    } catch {
      #expect(error.rpcErrorCode == .notFound)
    }
    // Stop and remove of a removed container succeed.
    try await bed.containers.stop(owner, timeout: .seconds(1))
    try await bed.containers.remove(owner)
  }

  @Test func stopSignalsThenKillsAndRecordsTheExit() async throws {
    let bed = try Bed()
    let owner = try await bed.container(in: try await bed.pod())
    try await bed.containers.start(owner)
    try await bed.containers.stop(owner, timeout: .seconds(5))
    #expect(owner.record.state == .exited && owner.record.exitCode == 128 + SIGTERM)
    #expect(bed.runtime.calls.withLock { $0 }.filter { $0.hasPrefix("kill") } == ["kill \(owner.id) \(SIGTERM)"])
  }

  @Test(arguments: 0..<20) func racingTransitionsNeverResurrectARemovedContainer(_ round: Int) async throws {
    let bed = try Bed(startDelay: .milliseconds(Int.random(in: 0...3)))
    let owner = try await bed.container(in: try await bed.pod())
    let containers = bed.containers
    await withTaskGroup(of: Void.self) { group in
      group.addTask { try? await containers.start(owner) }
      group.addTask { try? await containers.stop(owner, timeout: .milliseconds(10)) }
      group.addTask { try? await containers.remove(owner) }
      group.addTask { try? await containers.update(owner) { $0 } }
      group.addTask { _ = containers.index.all.map(\.record) }
    }
    // Whatever the order, the removal stands, in memory and on disk.
    #expect(owner.isRemoved)
    #expect(containers.index.owner(owner.id) == nil)
    #expect(try bed.journaledContainers().isEmpty, "round \(round): a removed container was written back")
    await #expect(throws: CRIError.self) { try await containers.update(owner) { $0 } }
  }

  @Test func anExitDuringStartIsAppliedOnceItRuns() async throws {
    let bed = try Bed(startDelay: .milliseconds(50))
    let owner = try await bed.container(in: try await bed.pod())
    async let started: Void = bed.containers.start(owner)
    try await Task.sleep(for: .milliseconds(10))
    // The process ends while runc start has not returned yet.
    bed.runtime.exit(owner.id, code: 0)
    await bed.containers.exited(id: owner.id)
    try await started
    #expect(owner.record.state == .exited, "the exit that came during start is applied")
  }

  @Test func stopAndRemoveOfAPodAtOnceTearDownOnce() async throws {
    let bed = try Bed()
    let pod = try await bed.pod()
    let container = try await bed.container(in: pod)
    try await bed.containers.start(container)
    let pods = bed.pods
    await withTaskGroup(of: Void.self) { group in
      group.addTask { try? await pods.stop(pod) }
      group.addTask { try? await pods.remove(pod) }
      group.addTask { try? await pods.stop(pod) }
    }
    #expect(bed.teardown.counts.withLock { $0 } == ["runtime": 1, "network": 1, "namespaces": 1], "each step ran once")
    #expect(pod.isRemoved && bed.pods.index.all.isEmpty && bed.containers.index.all.isEmpty)
    #expect(try bed.pods.journal.load().isEmpty && bed.journaledContainers().isEmpty)
  }

  @Test func theJournalRestoresWhatWasRecorded() async throws {
    let bed = try Bed()
    let pod = try await bed.pod()
    let kept = try await bed.container(in: pod, "kept")
    try await bed.containers.start(kept)
    let gone = try await bed.container(in: pod, "gone")
    try await bed.containers.remove(gone)
    let restored = try Journal<ContainerRecord>(database: bed.store.database).load()
    #expect(restored.map(\.id) == [kept.id])
    #expect(restored.first == kept.record)
    #expect(try Journal<PodSandbox>(database: bed.store.database).load().map(\.id) == [pod.id])
  }

  @Test func aSubscriberThatFallsBehindIsDroppedWithoutBlockingPublishers() async throws {
    let hub = ContainerEventHub(enabled: true, capacity: 4)
    hub.endRecovery(replayFor: .zero)
    let slow = hub.subscribe()
    let record = ContainerRecord(
      id: "c", name: "c", podID: "p", config: [], imageID: "", imageRef: "", runtimeHandler: "", bundle: "", layerDirectory: "",
      logPath: "", state: .running, pid: 1, createdAt: 0, startedAt: 0, finishedAt: 0, exitCode: 0, stopSignal: 15)
    for _ in 0..<10 { hub.publish(.containerStartedEvent, record: record) }
    #expect(hub.subscriberCount == 0, "the overflowing subscriber is gone")
    await #expect(throws: ContainerEventHub.Subscription.Overflow.self) {
      for try await _ in slow {}
    }
  }

  @Test func theAsyncLockLetsOneHolderInAtATime() async throws {
    final class Probe: Sendable {
      let inside = Atomic<Int>(0)
      let most = Atomic<Int>(0)
      let done = Atomic<Int>(0)
    }
    let lock = AsyncLock()
    let probe = Probe()
    await withTaskGroup(of: Void.self) { group in
      for _ in 0..<50 {
        group.addTask {
          await lock.withLock {
            let now = probe.inside.add(1, ordering: .relaxed).newValue
            probe.most.max(now, ordering: .relaxed)
            try? await Task.sleep(for: .microseconds(100))
            probe.inside.subtract(1, ordering: .relaxed)
            probe.done.add(1, ordering: .relaxed)
          }
        }
      }
    }
    #expect(probe.most.load(ordering: .relaxed) == 1, "one holder at a time")
    #expect(probe.done.load(ordering: .relaxed) == 50)
  }
}
