#if canImport(Glibc)
import Glibc
#endif
import CRIAPI
import CRIClient
import Support
import TestFixtures
import Testing

/// runtime_type = "pod" through the CRI: one crio-monitor per pod, its
/// death, and a daemon restart around it. (The lifecycle, log, attach,
/// OOM, restart and crash tests of the other suites run against both
/// runtime types.)
@Suite struct PodMonitorIntegrationTests {
  let kit = ContainerTests()

  /// The daemon's processes called `name` (their comm).
  static func processes(_ daemon: DaemonProcess, named name: String) -> [pid_t] {
    daemon.processes().filter { ((try? Files.read("/proc/\($0)/comm")) ?? "").hasPrefix(name) }
  }

  @Test func aPodHasOneMonitorForAllItsContainersAndItGoesWithThePod() async throws {
    try await kit.withPod(runtime: .pod) { cri, daemon, pod in
      var ids: [String] = []
      for name in ["one", "two", "three"] {
        let id = try await kit.create(cri, pod: pod, ContainerTests.container(name, "trap 'exit 0' QUIT; echo \(name); sleep 1000 & wait"))
        try await kit.start(cri, id)
        ids.append(id)
      }
      let monitors = Self.processes(daemon, named: "crio-monitor")
      #expect(monitors.count == 1, "one monitor per pod: \(monitors)")
      #expect(Self.processes(daemon, named: "conmon").isEmpty, "no conmon")
      // In the pod's monitor cgroup (monitor_cgroup), as conmon would be.
      let cgroup = (try? Files.read("/proc/\(monitors.first ?? 0)/cgroup")) ?? ""
      #expect(cgroup.contains("crio-conmon-" + pod), "\(cgroup)")
      for id in ids {
        let exec = try await cri.runtime.execSync(.with { $0.containerID = id; $0.cmd = ["echo", "through the monitor"] })
        #expect(String(decoding: exec.stdout, as: UTF8.self) == "through the monitor\n")
        let logPath = try await kit.status(cri, id).logPath
        #expect(await eventually { ((try? Files.read(logPath)) ?? "").contains(" stdout F ") })
      }
      try await PodSandboxTests.stop(cri, pod)
      for id in ids { #expect(try await kit.status(cri, id).state == .containerExited) }
      #expect(await eventually { Self.processes(daemon, named: "crio-monitor").isEmpty }, "the monitor ends with the pod")
      try await PodSandboxTests.remove(cri, pod)
      #expect(await eventually { daemon.processes().isEmpty }, "\(daemon.processes())")
      #expect(CrashRecoveryTests.cgroups(named: "crio-conmon-" + pod).isEmpty, "the monitor's cgroup is gone")
      #expect(((try? Files.list(daemon.directory + "/attach")) ?? []).isEmpty, "no attach link left")
      #expect(((try? Files.list(daemon.directory + "/exits")) ?? []).isEmpty, "no exit file left")
      #expect(daemon.mounts().isEmpty, "\(daemon.mounts())")
    }
  }

  @Test func aKilledMonitorsContainersAreReportedExitedAndThePodIsRemovable() async throws {
    try await kit.withPod(runtime: .pod) { cri, daemon, pod in
      var ids: [String] = []
      for name in ["a", "b"] {
        let id = try await kit.create(cri, pod: pod, ContainerTests.container(name, "sleep 1000"))
        try await kit.start(cri, id)
        ids.append(id)
      }
      let monitor = try #require(Self.processes(daemon, named: "crio-monitor").first)
      #expect(kill(monitor, SIGKILL) == 0)
      for id in ids {
        let status = try await kit.waitUntilExited(cri, id)
        #expect(status.state == .containerExited)
        #expect(status.exitCode == 137)
        #expect(status.reason == "ContainerMonitorLost", "\(status.reason): \(status.message)")
        #expect(status.message.contains("pod monitor"))
      }
      // (The pod's init, pause, stays until the pod stops.)
      #expect(await eventually { Self.processes(daemon, named: "sleep").isEmpty }, "the containers were killed: \(Self.describe(daemon.processes()))")
      // The pod gets a new monitor for the containers kubelet creates next.
      let again = try await kit.create(cri, pod: pod, ContainerTests.container("again", "sleep 1000"))
      try await kit.start(cri, again)
      let exec = try await cri.runtime.execSync(.with { $0.containerID = again; $0.cmd = ["echo", "new monitor"] })
      #expect(String(decoding: exec.stdout, as: UTF8.self) == "new monitor\n")
      let monitors = Self.processes(daemon, named: "crio-monitor")
      #expect(monitors.count == 1 && monitors.first != monitor, "\(monitors)")
      try await PodSandboxTests.stop(cri, pod)
      try await PodSandboxTests.remove(cri, pod)
      #expect(await eventually { daemon.processes().isEmpty }, "\(daemon.processes())")
      #expect(daemon.mounts().isEmpty, "\(daemon.mounts())")
      #expect(((try? Files.list(daemon.directory + "/attach")) ?? []).isEmpty, "no attach link left")
      #expect(((try? Files.list(daemon.directory + "/runc")) ?? []).isEmpty, "runc knows no container")
    }
  }

  /// A restarted daemon finds a live monitor again (exec through it, its
  /// later death seen), and one that died while it was down is reported.
  @Test func aRestartedDaemonReconnectsToLiveMonitorsAndReportsDeadOnes() async throws {
    try await RegistryServer.withRunning { registry in
      try await TestImages.pushBusybox(to: registry)
      let dir = try Files.makeTemporaryDirectory(prefix: "crio-pm")
      defer { Files.removeTree(dir) }
      try await acrossAKilledDaemon(config: try registry.pullConfiguration(in: dir) + RuntimeType.pod.config) { cri, _ in
        _ = try await cri.pull("\(registry.host)/busybox:1")
        var pods: [String] = []
        var containers: [String] = []
        for name in ["alive", "dead"] {
          var config = PodSandboxTests.podConfig(name: name)
          config.metadata.uid = "uid-" + name
          let pod = try await PodSandboxTests.run(cri, config)
          var container = ContainerTests.container(name, "sleep 1000", registryImage: "\(registry.host)/busybox:1")
          container.logPath = ""
          let id = try await kit.create(cri, pod: pod, container)
          try await kit.start(cri, id)
          pods.append(pod)
          containers.append(id)
        }
        return (pods, containers)
      } whileDown: { daemon, started in
        // The second pod's monitor dies while no daemon watches.
        let dead = try #require(Self.monitor(of: started.0[1], daemon: daemon))
        kill(dead, SIGKILL)
        await Processes.waitForEnd(dead, timeout: .seconds(5))
      } after: { cri, restarted, started in
        let (pods, containers) = started
        let lost = try await kit.status(cri, containers[1])
        #expect(lost.state == .containerExited && lost.reason == "ContainerMonitorLost", "\(lost.state) \(lost.reason)")
        #expect(try await kit.status(cri, containers[0]).state == .containerRunning)
        let exec = try await cri.runtime.execSync(.with { $0.containerID = containers[0]; $0.cmd = ["echo", "reconnected"] })
        #expect(String(decoding: exec.stdout, as: UTF8.self) == "reconnected\n")
        // The new daemon watches the monitor it found.
        let alive = try #require(Self.monitor(of: pods[0], daemon: restarted))
        kill(alive, SIGKILL)
        #expect(try await kit.waitUntilExited(cri, containers[0]).reason == "ContainerMonitorLost")
        for pod in pods {
          try await PodSandboxTests.stop(cri, pod)
          try await PodSandboxTests.remove(cri, pod)
        }
        #expect(await eventually { restarted.processes().isEmpty }, "\(restarted.processes())")
        #expect(restarted.mounts().isEmpty, "\(restarted.mounts())")
      }
    }
  }

  /// monitor_path names the pod monitor: one that cannot run fails
  /// RunPodSandbox with its path in the message and leaves nothing.
  @Test func aMonitorThatCannotStartFailsThePodAndLeavesNothing() async throws {
    let config = RuntimeType.pod.config + "monitor_path = \"/nonexistent/crio-monitor\"\n"
    try await withCRI(config: config) { cri, daemon in
      let error = await rpcError { _ = try await PodSandboxTests.run(cri, PodSandboxTests.podConfig()) }
      #expect(error?.code == .internalError)
      #expect(error?.message.contains("/nonexistent/crio-monitor") == true, "\(String(describing: error))")
      let pods = try await PodSandboxTests.list(cri)
      #expect(pods.isEmpty)
      #expect(((try? Files.list(daemon.directory + "/run/pods")) ?? []).isEmpty, "no pod directory left")
      #expect(daemon.mounts().isEmpty, "\(daemon.mounts())")
      #expect(daemon.processes().isEmpty, "\(daemon.processes())")
    }
  }

  static func describe(_ processes: [pid_t]) -> [String] {
    processes.map { "\($0): " + ((try? Files.read("/proc/\($0)/stat")) ?? "") }
  }

  /// The monitor of `pod` (its command line names the pod).
  static func monitor(of pod: String, daemon: DaemonProcess) -> pid_t? {
    processes(daemon, named: "crio-monitor").first { pid in
      let arguments = ((try? Files.readBytes("/proc/\(pid)/cmdline")) ?? []).split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
      return arguments.contains(pod)
    }
  }
}
