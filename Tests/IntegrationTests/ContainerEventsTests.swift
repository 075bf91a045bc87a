#if canImport(Glibc)
import Glibc
#endif
import CRIAPI
import CRIClient
import GRPCCore
import Support
import Synchronization
import TestFixtures
import Testing

/// GetContainerEvents as kubelet's evented PLEG uses it (`enable_pod_events
/// = true`), against real containers: every transition, in order, with the
/// pod's and containers' statuses, to every subscriber.
@Suite struct ContainerEventsTests {
  let kit = ContainerTests()
  static let config = "[crio.runtime]\nenable_pod_events = true\n"

  /// Collects a subscriber's events until it is stopped.
  final class Subscriber: Sendable {
    final class Received: Sendable {
      let events = Mutex<[Runtime_V1_ContainerEventResponse]>([])
      /// How the stream ended, when it did.
      let end = Mutex<String?>(nil)
    }
    private let received = Received()
    private let task: Task<Void, Never>

    init(_ cri: CRIConnection) async {
      let ready = AsyncStream<Void>.makeStream()
      let received = self.received
      task = Task {
        do {
          try await cri.runtime.getContainerEvents(Runtime_V1_GetEventsRequest()) { response in
            ready.continuation.finish()
            for try await event in response.messages { received.events.withLock { $0.append(event) } }
          }
          received.end.withLock { $0 = "ended" }
        } catch {
          received.end.withLock { $0 = "\(error)" }
        }
        ready.continuation.finish()
      }
      for await _ in ready.stream {}
      // The server subscribes when the call arrives; a Version round trip
      // on the same connection after the stream opened orders after it.
      _ = try? await cri.runtime.version(.init())
    }

    func received(for id: String) -> [Runtime_V1_ContainerEventResponse] {
      received.events.withLock { $0.filter { $0.containerID == id } }
    }

    func types(for id: String) -> [Runtime_V1_ContainerEventType] { received(for: id).map(\.containerEventType) }

    /// For failure messages: what arrived and how the stream ended.
    var summary: String {
      "\(received.events.withLock { $0.map { "\($0.containerID.prefix(8)) \($0.containerEventType)" } }), end: \(received.end.withLock { $0 } ?? "still open")"
    }

    func stop() { task.cancel() }
  }

  static let lifecycle: [Runtime_V1_ContainerEventType] = [
    .containerCreatedEvent, .containerStartedEvent, .containerStoppedEvent, .containerDeletedEvent,
  ]

  @Test(arguments: RuntimeType.allCases)
  func subscribersSeeEveryTransitionInOrder(_ runtime: RuntimeType) async throws {
    try await kit.withPod(runtime: runtime, extraConfig: Self.config) { cri, _, pod in
      let first = await Subscriber(cri)
      let second = await Subscriber(cri)
      defer { first.stop(); second.stop() }

      // One that ends by itself.
      let quick = try await kit.create(cri, pod: pod, ContainerTests.container("quick", "exit 3"))
      try await kit.start(cri, quick)
      #expect(try await kit.waitUntilExited(cri, quick).exitCode == 3)
      // One that is stopped.
      let stopped = try await kit.create(cri, pod: pod, ContainerTests.container("stopped", "trap 'exit 0' QUIT; sleep 1000 & wait"))
      try await kit.start(cri, stopped)
      _ = try await cri.runtime.stopContainer(.with { $0.containerID = stopped; $0.timeout = 10 })
      // One the kernel's OOM killer ends.
      var hungry = ContainerTests.container("hungry", "dd if=/dev/zero of=/dev/null bs=64M count=1")
      hungry.linux.resources = .with { $0.memoryLimitInBytes = 16 << 20; $0.memorySwapLimitInBytes = 16 << 20 }
      let oom = try await kit.create(cri, pod: pod, hungry)
      try await kit.start(cri, oom)
      #expect(try await kit.waitUntilExited(cri, oom).reason == "OOMKilled")
      for id in [quick, stopped, oom] { _ = try await cri.runtime.removeContainer(.with { $0.containerID = id }) }

      for id in [quick, stopped, oom] {
        #expect(await eventually { first.types(for: id) == Self.lifecycle }, "\(id): \(first.types(for: id))")
        // Each subscriber has its own stream: the second may be a moment
        // behind the first, never different.
        #expect(await eventually { second.types(for: id) == Self.lifecycle }, "two subscribers see the same: \(second.types(for: id))")
      }
      // The events carry the statuses as they were.
      let quickStopped = try #require(first.received(for: quick).first { $0.containerEventType == .containerStoppedEvent })
      #expect(quickStopped.podSandboxStatus.id == pod && quickStopped.podSandboxStatus.state == .sandboxReady)
      let quickStatus = try #require(quickStopped.containersStatuses.first { $0.id == quick })
      #expect(quickStatus.state == .containerExited && quickStatus.exitCode == 3)
      let oomStopped = try #require(first.received(for: oom).first { $0.containerEventType == .containerStoppedEvent })
      #expect(oomStopped.containersStatuses.first { $0.id == oom }?.reason == "OOMKilled")
      let deleted = try #require(first.received(for: quick).last)
      #expect(!deleted.containersStatuses.contains { $0.id == quick }, "a deleted container is no longer among the statuses")
      #expect(first.received(for: quick).map(\.createdAt) == first.received(for: quick).map(\.createdAt).sorted())
    }
  }

  @Test func anExitWhileTheDaemonWasDownIsAnnouncedAfterTheRestart() async throws {
    try await RegistryServer.withRunning { registry in
      try await TestImages.pushBusybox(to: registry)
      let dir = try Files.makeTemporaryDirectory(prefix: "crio-events-rc")
      defer { Files.removeTree(dir) }
      let image = "\(registry.host)/busybox:1"
      try await acrossAKilledDaemon(config: try registry.pullConfiguration(in: dir) + "\n" + Self.config) { cri, _ in
        _ = try await cri.pull(image)
        let pod = try await PodSandboxTests.run(cri, PodSandboxTests.podConfig())
        // It ends only once the daemon is down: the test then drops the file it waits for.
        var config = ContainerTests.container("napper", "while [ ! -e /trigger/go ]; do sleep 0.05; done", registryImage: image)
        config.mounts = [.with { $0.hostPath = dir; $0.containerPath = "/trigger" }]
        config.linux.securityContext.runAsUser = .with { $0.value = 0 }  // the directory is root's
        config.logPath = ""
        let id = try await kit.create(cri, pod: pod, config)
        try await kit.start(cri, id)
        return id
      } whileDown: { daemon, id in
        #expect(Files.kind(of: daemon.directory + "/exits/" + id) == .missing, "still running when the daemon died")
        try Files.write(dir + "/go", "")
        #expect(await eventually(timeout: .seconds(30)) { Files.kind(of: daemon.directory + "/exits/" + id) == .file })
      } after: { cri, restarted, id in
        // The container ended while no daemon ran; conmon recorded it.
        let subscriber = await Subscriber(cri)
        defer { subscriber.stop() }
        #expect(
          await eventually(timeout: .seconds(20)) { subscriber.types(for: id).contains(.containerStoppedEvent) },
          "\(subscriber.summary)\n\(restarted.log())")
        #expect((try? await kit.status(cri, id).state) == .containerExited)
      }
    }
  }

  @Test func aSubscriberThatStopsReadingSlowsNothingElse() async throws {
    try await kit.withPod(extraConfig: Self.config) { cri, daemon, pod in
      // A second connection whose subscriber never reads: gRPC's flow
      // control stops its stream, the daemon's queue for it fills up.
      try await CRIConnection.with(socket: daemon.socket) { stalled in
        let started = AsyncStream<Void>.makeStream()
        let idle = Task {
          try? await stalled.runtime.getContainerEvents(Runtime_V1_GetEventsRequest()) { _ in
            started.continuation.finish()
            try? await Task.sleep(for: .seconds(600))
          }
        }
        defer { idle.cancel() }
        for await _ in started.stream {}
        let reader = await Subscriber(cri)
        defer { reader.stop() }
        var ids: [String] = []
        for round in 0..<20 {
          var config = ContainerTests.container("busy\(round)", "true")
          config.logPath = ""
          let id = try await kit.create(cri, pod: pod, config)
          try await kit.start(cri, id)
          _ = try await kit.waitUntilExited(cri, id)
          _ = try await cri.runtime.removeContainer(.with { $0.containerID = id })
          ids.append(id)
        }
        for id in ids {
          #expect(await eventually { reader.types(for: id) == Self.lifecycle }, "the reading subscriber got everything: \(reader.types(for: id))")
        }
      }
    }
  }

  @Test func withoutEnablePodEventsTheStreamEndsAtOnce() async throws {
    try await withCRI { cri, _ in
      let code = await rpcCode {
        try await cri.runtime.getContainerEvents(Runtime_V1_GetEventsRequest()) { response in
          for try await _ in response.messages {}
        }
      }
      #expect(code == nil)
    }
  }
}
