#if canImport(Glibc)
import Glibc
#endif
import CRIAPI
import CRIClient
import GRPCCore
import Support
import TestFixtures
import Testing

/// Crash safety: the daemon dies (`_exit`, as abruptly as `kill -9`) at
/// every step of RunPodSandbox and CreateContainer, through its
/// CRIO_TEST_CRASH_AT hook, and a new daemon on the same directories must
/// find every pod and container whole and usable or gone, with nothing of
/// the half-made one left: runc state, mounts, pins, cgroups, directories,
/// exit files, attach links, CNI cache, addresses, veths, processes.
@Suite struct CrashRecoveryTests {
  /// The steps each RPC has (see the `CrashPoints.reach` calls).
  static let podSteps = 1...6
  static let containerSteps = 1...4

  @Test(arguments: RuntimeType.allCases, podSteps)
  func runPodSandboxKilledAtStep(_ runtime: RuntimeType, _ step: Int) async throws {
    try await podRound(rpc: "RunPodSandbox", step: step, recorded: step == Self.podSteps.upperBound, runtime: runtime)
  }

  /// `drop_infra_ctr = false`: the pod's infra container (its PID 1 here)
  /// is restored with the pod or removed with what was half made of it.
  @Test(arguments: podSteps) func runPodSandboxWithAnInfraContainerKilledAtStep(_ step: Int) async throws {
    try await podRound(rpc: "RunPodSandbox", step: step, recorded: step == Self.podSteps.upperBound, infra: true)
  }

  /// Between the infra's root being mounted and runc running it.
  @Test func runPodSandboxKilledWithTheInfraRootMounted() async throws {
    try await podRound(rpc: "RunPodSandboxInfra", step: 1, recorded: false, infra: true)
  }

  func podRound(rpc: String, step: Int, recorded: Bool, infra: Bool = false, runtime: RuntimeType = .oci) async throws {
    try await crashRound(rpc: rpc, step: step, infra: infra, runtime: runtime) { cri, _, _ in
      _ = try await PodSandboxTests.run(cri, Self.pod())
    } afterRestart: { cri, daemon, network, crashed in
      let pods = try await PodSandboxTests.list(cri)
      if recorded {
        // Recorded before the crash: whole and usable.
        let pod = try #require(pods.first)
        #expect(pods.count == 1 && pod.state == .sandboxReady)
        #expect(try await cri.runtime.podSandboxStatus(.with { $0.podSandboxID = pod.id }).status.network.ip.hasPrefix(network.prefix))
        let container = try await Self.runContainer(cri, pod: pod.id)
        _ = try await cri.runtime.startContainer(.with { $0.containerID = container })
        #expect(try await ContainerTests().status(cri, container).state == .containerRunning)
        _ = try await cri.runtime.stopPodSandbox(.with { $0.podSandboxID = pod.id })
        _ = try await cri.runtime.removePodSandbox(.with { $0.podSandboxID = pod.id })
      } else {
        #expect(pods.isEmpty, "a pod whose creation was cut short is not listed: \(pods)")
      }
      let left = await Self.leftovers(of: crashed, daemon: daemon, network: network)
      #expect(left.isEmpty, "nothing of the crashed creation is left: \(left)")
    }
  }

  @Test(arguments: RuntimeType.allCases, containerSteps)
  func createContainerKilledAtStep(_ runtime: RuntimeType, _ step: Int) async throws {
    try await crashRound(rpc: "CreateContainer", step: step, runtime: runtime) { cri, daemon, _ in
      let pod = try await PodSandboxTests.run(cri, Self.pod())
      try Files.write(daemon.directory + "/pod-id", pod)
      _ = try await Self.runContainer(cri, pod: pod)
    } afterRestart: { cri, daemon, network, crashed in
      let pod = try Files.read(daemon.directory + "/pod-id")
      #expect(try await PodSandboxTests.list(cri).map(\.id) == [pod], "the pod made before the crash is still there")
      let containers = try await cri.runtime.listContainers(.init()).containers
      if step == Self.containerSteps.upperBound {
        let container = try #require(containers.first)
        #expect(containers.count == 1 && container.state == .containerCreated)
        _ = try await cri.runtime.startContainer(.with { $0.containerID = container.id })
        let hello = try await cri.runtime.execSync(.with { $0.containerID = container.id; $0.cmd = ["echo", "whole"] })
        #expect(String(decoding: hello.stdout, as: UTF8.self) == "whole\n")
      } else {
        #expect(containers.isEmpty, "a container whose creation was cut short is not listed: \(containers)")
        // The pod takes a new container.
        _ = try await Self.runContainer(cri, pod: pod)
      }
      _ = try await cri.runtime.stopPodSandbox(.with { $0.podSandboxID = pod })
      _ = try await cri.runtime.removePodSandbox(.with { $0.podSandboxID = pod })
      let left = await Self.leftovers(of: crashed.union([pod]), daemon: daemon, network: network)
      #expect(left.isEmpty, "nothing of the crashed creation or the pod is left: \(left)")
    }
  }

  /// A pod on a bridge network of its own, sharing its PID namespace (so it
  /// has an init), with a namespaced sysctl.
  static func pod() -> Runtime_V1_PodSandboxConfig {
    var config = PodSandboxTests.podConfig(name: "crash")
    config.linux.securityContext.namespaceOptions.pid = .pod
    config.linux.sysctls = ["net.ipv4.ip_unprivileged_port_start": "80"]
    return config
  }

  static func runContainer(_ cri: CRIConnection, pod: String) async throws -> String {
    var config = ContainerTests.container("sleeper", "sleep 1000")
    config.linux.securityContext.namespaceOptions.pid = .pod
    let id = try await cri.runtime.createContainer(.with { $0.podSandboxID = pod; $0.config = config }).containerID
    return id
  }

  /// Runs `before` on a daemon that dies at `rpc`'s `step`, then
  /// `afterRestart` on a new daemon on the same directories, with the IDs
  /// the dead daemon had begun to create (read from its directories).
  func crashRound(
    rpc: String, step: Int, infra: Bool = false, runtime: RuntimeType = .oci,
    before: (CRIConnection, DaemonProcess, NetworkTests.TestNetwork) async throws -> Void,
    afterRestart: (CRIConnection, DaemonProcess, NetworkTests.TestNetwork, Set<String>) async throws -> Void
  ) async throws {
    try await RegistryServer.withRunning { registry in
      try await TestImages.pushBusybox(to: registry)
      if infra { try await TestImages.pushPause(to: registry) }
      let configDirectory = try Files.makeTemporaryDirectory(prefix: "crio-crash")
      defer { Files.removeTree(configDirectory) }
      let config = try registry.pullConfiguration(in: configDirectory, policy: #"{"default":[{"type":"insecureAcceptAnything"}]}"#)
        + (infra ? "\n" + TestImages.infraConfiguration(registry: registry) : "") + runtime.config
      let holder = NetworkTests.NetworkHolder()
      let first = try DaemonProcess(config: config, environment: ["CRIO_TEST_CRASH_AT=\(rpc):\(step)"]) { directory in
        let network = NetworkTests.TestNetwork(directory: directory)
        holder.network = network
        try Files.write(directory + "/cni/net.d/10-test.conflist", network.conflist)
      }
      let network = try #require(holder.network)
      var second: DaemonProcess?
      do {
        try await first.waitUntilReady()
        try await CRIConnection.with(socket: first.socket) { cri in
          _ = try await cri.pull("\(registry.host)/busybox:1")
          do {
            try await before(cri, first, network)
            Issue.record("\(rpc) answered although the daemon was to die at step \(step)")
          } catch let error as RPCError {
            #expect(error.code == .unavailable, "the daemon died during the call: \(error)")
          }
        }
        #expect(await first.waitForExit() == 137, "the daemon died at \(rpc) step \(step)")
        let crashed = Self.idsOnDisk(first.directory)
        let restarted = try DaemonProcess(config: config, reusing: first.directory)
        second = restarted
        try await restarted.waitUntilReady()
        try await CRIConnection.with(socket: restarted.socket) { cri in
          try await afterRestart(cri, restarted, network, crashed)
        }
      } catch {
        Issue.record("\(error)\n\(first.log())\n\(second?.log() ?? "")")
      }
      if let second { await second.cleanUp() } else { await first.cleanUp() }
      await network.remove()
    }
  }

  /// The pod and container IDs anything of the daemon's is named by.
  static func idsOnDisk(_ directory: String) -> Set<String> {
    var ids: Set<String> = []
    for place in ["run/pods", "run/containers", "root/containers", "runc", "exits", "ns/netns"] {
      for name in (try? Files.list(directory + "/" + place)) ?? [] where name.utf8.count == 64 { ids.insert(name) }
    }
    return ids
  }

  /// What is left anywhere of the pods and containers `ids`, and of the
  /// test's network.
  static func leftovers(of ids: Set<String>, daemon: DaemonProcess, network: NetworkTests.TestNetwork) async -> [String] {
    let directory = daemon.directory
    var found: [String] = []
    for id in ids {
      for path in [
        "runc/\(id)", "run/pods/\(id)", "run/containers/\(id)", "root/containers/\(id)", "exits/\(id)", "attach/\(id)",
        "ns/netns/\(id)", "ns/ipcns/\(id)", "ns/utsns/\(id)",
        // The pod's log directory under log_dir (the test daemons' --log-dir).
        "pods/\(id)",
      ] {
        var info = stat()
        if lstat(directory + "/" + path, &info) == 0 { found.append(path) }
      }
      found += daemon.mounts().filter { $0.contains(id) }.map { "mount \($0)" }
      found += ((try? Files.list(directory + "/root/cni/results")) ?? []).filter { $0.contains(id) }.map { "CNI cache \($0)" }
      found += (cgroups(named: "crio-" + id) + cgroups(named: "crio-conmon-" + id)).map { "cgroup \($0)" }
    }
    found += network.allocatedAddresses().map { "address \($0)" }
    found += await network.veths().map { "veth \($0)" }
    found += daemon.processes().map { "process \($0): \((try? Files.read("/proc/\($0)/cmdline")) ?? "")" }
    return found.sorted()
  }

  /// Cgroups called `name` in any hierarchy, a few levels down.
  static func cgroups(named name: String) -> [String] {
    var found: [String] = []
    func walk(_ path: String, depth: Int) {
      guard depth < 5 else { return }
      for child in (try? Files.list(path)) ?? [] where Files.kind(of: path + "/" + child) == .directory {
        if child == name || child == name + ".scope" { found.append(path + "/" + child) } else { walk(path + "/" + child, depth: depth + 1) }
      }
    }
    for entry in MountInfoEntry.current() where entry.filesystemType == "cgroup" || entry.filesystemType == "cgroup2" {
      walk(entry.mountPoint, depth: 0)
    }
    return found
  }
}
