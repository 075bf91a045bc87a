#if canImport(Glibc)
import Glibc
#endif
import CRIAPI
import CRIClient
import GRPCCore
import Support
import TestFixtures
import Testing

/// Transitions fired at once on one entity, as kubelet, crictl and a user
/// racing them do: each call answers as CRI-O would (never INTERNAL), a
/// removed entity never comes back (not after the round, not after a
/// restart), and nothing of it is left behind.
@Suite struct RaceTests {
  static let rounds = 30

  /// The status code of a call, nil for OK.
  static func outcome(_ call: @escaping @Sendable () async throws -> Void) async -> RPCError.Code? {
    await rpcCode { try await call() }
  }

  @Test func startStopRemoveStatusAndListOnOneContainer() async throws {
    try await NetworkTests().withNetwork { cri, daemon, network in
      let pod = try await PodSandboxTests.run(cri, NetworkTests.pod("racer"))
      var seen: [String: Set<String>] = [:]
      var removed: [String] = []
      for round in 0..<Self.rounds {
        var config = ContainerTests.container("c\(round)", "trap 'exit 0' TERM; sleep 1000 & wait")
        config.logPath = ""
        let id = try await cri.runtime.createContainer(.with { $0.podSandboxID = pod; $0.config = config }).containerID
        let calls: [(String, @Sendable () async throws -> Void)] = [
          ("start", { _ = try await cri.runtime.startContainer(.with { $0.containerID = id }) }),
          ("stop", { _ = try await cri.runtime.stopContainer(.with { $0.containerID = id; $0.timeout = 1 }) }),
          ("remove", { _ = try await cri.runtime.removeContainer(.with { $0.containerID = id }) }),
          ("status", { _ = try await cri.runtime.containerStatus(.with { $0.containerID = id }) }),
          ("list", { _ = try await cri.runtime.listContainers(.init()) }),
        ]
        let results = await withTaskGroup(of: (String, RPCError.Code?).self) { group in
          for (name, call) in calls.shuffled() { group.addTask { (name, await Self.outcome(call)) } }
          return await group.reduce(into: [(String, RPCError.Code?)]()) { $0.append($1) }
        }
        for (name, code) in results { seen[name, default: []].insert(code.map { "\($0)" } ?? "ok") }
        let allowed: [String: Set<RPCError.Code?>] = [
          "start": [nil, .notFound, .failedPrecondition], "stop": [nil, .notFound], "remove": [nil],
          "status": [nil, .notFound], "list": [nil],
        ]
        for (name, code) in results {
          #expect(allowed[name]!.contains(code), "round \(round): \(name) answered \(String(describing: code))")
        }
        removed.append(id)
        let listed = try await cri.runtime.listContainers(.init()).containers.map(\.id)
        #expect(!listed.contains(id), "round \(round): the removed container is listed again")
        #expect(await rpcCode { try await cri.runtime.containerStatus(.with { $0.containerID = id }) } == .notFound)
      }
      #expect(Self.runcStates(daemon).filter { removed.contains($0) }.isEmpty, "runc still has removed containers")
      #expect(daemon.mounts().filter { mount in removed.contains { mount.contains($0) } }.isEmpty)
      let monitors = PodMonitorIntegrationTests.processes(daemon, named: "crio-monitor")
      let left = daemon.processes().filter { !monitors.contains($0) }
      #expect(left.count <= 1, "at most the pod's init (and its pod monitor) is left: \(left)")
      _ = try await cri.runtime.removePodSandbox(.with { $0.podSandboxID = pod })
      _ = network
    }
  }

  @Test func stopRemoveStatusAndRunOnOnePod() async throws {
    try await NetworkTests().withNetwork { cri, daemon, network in
      var made: Set<String> = []
      for round in 0..<Self.rounds {
        var config = NetworkTests.pod("pod-race")
        config.metadata.attempt = UInt32(round)
        config.linux.securityContext.namespaceOptions.pid = .pod
        let podConfig = config
        let id = try await PodSandboxTests.run(cri, podConfig)
        made.insert(id)
        let calls: [(String, @Sendable () async throws -> Void)] = [
          ("stop", { _ = try await cri.runtime.stopPodSandbox(.with { $0.podSandboxID = id }) }),
          ("remove", { _ = try await cri.runtime.removePodSandbox(.with { $0.podSandboxID = id }) }),
          ("status", { _ = try await cri.runtime.podSandboxStatus(.with { $0.podSandboxID = id }) }),
          // kubelet's retry of the same creation: the same pod, or taken.
          ("run", { _ = try await PodSandboxTests.run(cri, podConfig) }),
          ("stop again", { _ = try await cri.runtime.stopPodSandbox(.with { $0.podSandboxID = id }) }),
        ]
        let results = await withTaskGroup(of: (String, RPCError.Code?).self) { group in
          for (name, call) in calls.shuffled() { group.addTask { (name, await Self.outcome(call)) } }
          return await group.reduce(into: [(String, RPCError.Code?)]()) { $0.append($1) }
        }
        let allowed: [String: Set<RPCError.Code?>] = [
          "stop": [nil], "stop again": [nil], "remove": [nil], "status": [nil, .notFound], "run": [nil, .alreadyExists],
        ]
        for (name, code) in results {
          #expect(allowed[name]!.contains(code), "round \(round): \(name) answered \(String(describing: code))")
        }
        // A run that came after the removal made a new pod: remove it too.
        for pod in try await PodSandboxTests.list(cri) {
          made.insert(pod.id)
          _ = try await cri.runtime.removePodSandbox(.with { $0.podSandboxID = pod.id })
        }
        #expect(try await PodSandboxTests.list(cri).isEmpty, "round \(round): a removed pod is listed again")
      }
      #expect(network.allocatedAddresses().isEmpty, "addresses left: \(network.allocatedAddresses())")
      #expect(await network.veths().isEmpty)
      #expect(Self.runcStates(daemon).isEmpty, "pod inits left in runc: \(Self.runcStates(daemon))")
      #expect(daemon.mounts().filter { mount in made.contains { mount.contains($0) } }.isEmpty)
      #expect(Self.pins(daemon).isEmpty, "pins left: \(Self.pins(daemon))")
      #expect(daemon.processes().isEmpty)
    }
  }

  @Test func removedEntitiesStayRemovedAfterARestart() async throws {
    try await RegistryServer.withRunning { registry in
      try await TestImages.pushBusybox(to: registry)
      let dir = try Files.makeTemporaryDirectory(prefix: "crio-race-rc")
      defer { Files.removeTree(dir) }
      try await acrossAKilledDaemon(config: try registry.pullConfiguration(in: dir)) { cri, _ in
        _ = try await cri.pull("\(registry.host)/busybox:1")
        let pod = try await PodSandboxTests.run(cri, PodSandboxTests.podConfig())
        var removed: [String] = []
        for round in 0..<5 {
          let config = ContainerTests.container("gone\(round)", "sleep 1000", registryImage: "\(registry.host)/busybox:1")
          let id = try await ContainerTests().create(cri, pod: pod, config)
          async let start: Void = ContainerTests().start(cri, id)
          async let remove = cri.runtime.removeContainer(.with { $0.containerID = id })
          _ = try? await start
          _ = try await remove
          removed.append(id)
        }
        return (pod, removed)
      } after: { cri, restarted, state in
        let (pod, removed) = state
        let listed = try await cri.runtime.listContainers(.init()).containers.map(\.id)
        #expect(listed.allSatisfy { !removed.contains($0) }, "removed containers came back: \(listed)")
        #expect(try await PodSandboxTests.list(cri).map(\.id) == [pod])
        _ = try await cri.runtime.removePodSandbox(.with { $0.podSandboxID = pod })
        #expect(Self.runcStates(restarted).isEmpty)
        #expect(restarted.mounts().isEmpty, "\(restarted.mounts())")
      }
    }
  }

  static func runcStates(_ daemon: DaemonProcess) -> [String] {
    (try? Files.list(daemon.directory + "/runc")) ?? []
  }

  static func pins(_ daemon: DaemonProcess) -> [String] {
    ["netns", "ipcns", "utsns"].flatMap { kind in ((try? Files.list(daemon.directory + "/ns/" + kind)) ?? []).map { kind + "/" + $0 } }
  }
}
