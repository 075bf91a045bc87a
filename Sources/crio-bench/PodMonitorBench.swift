#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import CRIAPI
import CRIClient
import Support
import SwiftProtobuf
import TestFixtures

/// Issue 14's figures for both runtime types in one run, conmon's first:
/// CreateContainer + StartContainer and ExecSync `true` latencies (round
/// trips from this client), then 10 pods × 10 containers started serially
/// (the total) and, with all running, the PSS of the daemon and its
/// monitors (conmons, or one crio-monitor per pod).
struct PodMonitorBench: AsyncParsableCommand {
  static let configuration = CommandConfiguration(commandName: "pod-monitor")

  @Option(help: "Containers to time Create + Start for (one pod).") var runs = 30
  @Option(help: "ExecSync calls to time.") var execs = 100
  @Option(help: "Pods for the memory figure.") var pods = 10
  @Option(help: "Containers per pod for the memory figure.") var containersPerPod = 10

  func run() async throws {
    try await RegistryServer.withRunning { registry in
      let image = "\(registry.host)/monitor-bench:1"
      _ = try await BenchImage.push(to: registry, repository: "monitor-bench", applets: ["sh", "sleep", "true"], cmd: ["/bin/sleep", "100000"])
      for type in ["oci", "pod"] {
        print("== runtime_type = \"\(type)\"" + (type == "oci" ? " (conmon per container)" : " (crio-monitor per pod)"))
        let dir = try Files.makeTemporaryDirectory(prefix: "crio-bench")
        defer { Files.removeTree(dir) }
        let config = try registry.pullConfiguration(in: dir) + "\n[crio.runtime.runtimes.runc]\nruntime_type = \"\(type)\"\n"
        let daemon = try DaemonProcess(config: config)
        try await withCleanUp {
          try await daemon.waitUntilReady(timeout: .seconds(30))
          try await CRIConnection.with(socket: daemon.socket) { cri in
            _ = try await cri.image.pullImage(.with { $0.image.image = image })
            try await measureLatencies(cri, image: image)
            try await measureManyPods(cri, daemon: daemon, image: image, monitor: type == "oci" ? "conmon" : "crio-monitor")
          }
        } cleanUp: {
          await daemon.cleanUp()
        }
      }
    }
  }

  func pod(_ name: String) -> Runtime_V1_PodSandboxConfig {
    .with {
      $0.metadata.name = name
      $0.metadata.namespace = "bench"
      $0.metadata.uid = "uid-" + name
    }
  }

  func container(_ image: String, _ name: String) -> Runtime_V1_ContainerConfig {
    .with {
      $0.metadata.name = name
      $0.image.image = image
      $0.command = ["/bin/sleep", "100000"]
    }
  }

  func createAndStart(_ cri: CRIConnection, pod: String, config: Runtime_V1_PodSandboxConfig, _ container: Runtime_V1_ContainerConfig) async throws -> String {
    let id = try await cri.runtime.createContainer(.with {
      $0.podSandboxID = pod
      $0.config = container
      $0.sandboxConfig = config
    }).containerID
    _ = try await cri.runtime.startContainer(.with { $0.containerID = id })
    return id
  }

  func measureLatencies(_ cri: CRIConnection, image: String) async throws {
    let config = pod("latency")
    let podID = try await cri.runtime.runPodSandbox(.with { $0.config = config }).podSandboxID
    var createStart: [Duration] = []
    var last = ""
    for index in 0..<runs {
      let began = ContinuousClock.now
      last = try await createAndStart(cri, pod: podID, config: config, container(image, "c\(index)"))
      createStart.append(ContinuousClock.now - began)
    }
    report("CreateContainer + StartContainer", createStart)
    var execSync: [Duration] = []
    for _ in 0..<10 { _ = try await cri.runtime.execSync(.with { $0.containerID = last; $0.cmd = ["/bin/true"] }) }
    for _ in 0..<execs {
      let began = ContinuousClock.now
      _ = try await cri.runtime.execSync(.with { $0.containerID = last; $0.cmd = ["/bin/true"] })
      execSync.append(ContinuousClock.now - began)
    }
    report("ExecSync true", execSync)
    _ = try await cri.runtime.stopPodSandbox(.with { $0.podSandboxID = podID })
    _ = try await cri.runtime.removePodSandbox(.with { $0.podSandboxID = podID })
  }

  func measureManyPods(_ cri: CRIConnection, daemon: DaemonProcess, image: String, monitor: String) async throws {
    let began = ContinuousClock.now
    var podIDs: [String] = []
    var runPod: [Duration] = [], createStart: [Duration] = []
    for podIndex in 0..<pods {
      let config = pod("many-\(podIndex)")
      let podBegan = ContinuousClock.now
      let podID = try await cri.runtime.runPodSandbox(.with { $0.config = config }).podSandboxID
      runPod.append(ContinuousClock.now - podBegan)
      podIDs.append(podID)
      for index in 0..<containersPerPod {
        let containerBegan = ContinuousClock.now
        _ = try await createAndStart(cri, pod: podID, config: config, container(image, "c\(index)"))
        createStart.append(ContinuousClock.now - containerBegan)
      }
    }
    let total = ContinuousClock.now - began
    print("\(pods) pods × \(containersPerPod) containers run serially through the CRI: \(milliseconds(total)) ms")
    report("  of which RunPodSandbox", runPod)
    report("  of which CreateContainer + StartContainer", createStart)
    try await Task.sleep(for: .seconds(2))
    let monitors = daemon.processes().filter { ((try? Files.read("/proc/\($0)/comm")) ?? "").hasPrefix(monitor) }
    let daemonPss = kibibytes("Pss", daemon.pid, in: "smaps_rollup")
    let monitorsPss = monitors.reduce(0) { $0 + kibibytes("Pss", $1, in: "smaps_rollup") }
    let monitorsRss = monitors.reduce(0) { $0 + kibibytes("VmRSS", $1) }
    print("with \(pods * containersPerPod) running containers: \(monitors.count) \(monitor) processes, PSS \(monitorsPss / 1024) MiB (\(monitorsPss / max(monitors.count, 1)) KiB each, RSS \(monitorsRss / max(monitors.count, 1)) KiB each)")
    print("  PSS: daemon \(daemonPss / 1024) MiB, daemon + monitors \((daemonPss + monitorsPss) / 1024) MiB")
    for podID in podIDs {
      _ = try await cri.runtime.stopPodSandbox(.with { $0.podSandboxID = podID })
      _ = try await cri.runtime.removePodSandbox(.with { $0.podSandboxID = podID })
    }
  }
}
