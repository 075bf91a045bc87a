#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import CRIAPI
import CRIClient
import OCI
import Support
import SwiftProtobuf
import TestFixtures

/// Issue 14's figures for both runtime types in one run, conmon's first:
/// CreateContainer + StartContainer and ExecSync `true` latencies (round
/// trips from this client), then 10 pods × 10 containers started serially
/// (the total) and, with all running, the PSS of the daemon and its
/// monitors (conmons, or one crio-monitor per pod).
///
/// The latencies are taken twice: with the default seccomp profile (what
/// a container without one gets, as from CRI-O) and Unconfined (what the
/// `runc spec` bundle of the lifecycle bench's floor has). Each is printed
/// beside its own floor: bare `runc create` + `runc start` of the bundle
/// the daemon wrote, and bare `runc exec` in the daemon's container. runc
/// compiles the default profile for three architectures in every create
/// and exec, which is most of the difference between the two.
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
            for seccomp in [true, false] {
              try await measureLatencies(cri, daemon: daemon, image: image, seccomp: seccomp)
            }
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

  func container(_ image: String, _ name: String, seccomp: Bool = true) -> Runtime_V1_ContainerConfig {
    .with {
      $0.metadata.name = name
      $0.image.image = image
      $0.command = ["/bin/sleep", "100000"]
      if !seccomp { $0.linux.securityContext.seccomp.profileType = .unconfined }
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

  func measureLatencies(_ cri: CRIConnection, daemon: DaemonProcess, image: String, seccomp: Bool) async throws {
    print(seccomp ? "-- seccomp: the default profile" : "-- seccomp: Unconfined")
    let config = pod(seccomp ? "latency" : "latency-unconfined")
    let podID = try await cri.runtime.runPodSandbox(.with { $0.config = config }).podSandboxID
    var createStart: [Duration] = []
    var last = ""
    for index in 0..<runs {
      let began = ContinuousClock.now
      last = try await createAndStart(cri, pod: podID, config: config, container(image, "c\(index)", seccomp: seccomp))
      createStart.append(ContinuousClock.now - began)
    }
    report("CreateContainer + StartContainer", createStart)
    try await measureRuncFloor(daemon: daemon, bundleOf: last)
    var execSync: [Duration] = []
    for _ in 0..<10 { _ = try await cri.runtime.execSync(.with { $0.containerID = last; $0.cmd = ["/bin/true"] }) }
    for _ in 0..<execs {
      let began = ContinuousClock.now
      _ = try await cri.runtime.execSync(.with { $0.containerID = last; $0.cmd = ["/bin/true"] })
      execSync.append(ContinuousClock.now - began)
    }
    report("ExecSync true", execSync)
    var bareExec: [Duration] = []
    for _ in 0..<min(execs, 30) {
      let began = ContinuousClock.now
      _ = try await Processes.run(DaemonProcess.runcPath, ["--root", daemon.directory + "/runc", "exec", last, "/bin/true"])
      bareExec.append(ContinuousClock.now - began)
    }
    report("floor: runc exec of true in that container", bareExec)
    _ = try await cri.runtime.stopPodSandbox(.with { $0.podSandboxID = podID })
    _ = try await cri.runtime.removePodSandbox(.with { $0.podSandboxID = podID })
  }

  /// Bare `runc create` + `runc start` of the bundle the daemon wrote for
  /// `container` (its spec, root and the pod's namespaces; a cgroup and
  /// runc root of its own), stdio to /dev/null.
  func measureRuncFloor(daemon: DaemonProcess, bundleOf container: String) async throws {
    var spec = try OCIJSON.decode(Spec.self, from: Files.readBytes(daemon.directory + "/run/containers/\(container)/config.json"), kind: "runtime spec")
    spec.process?.terminal = false
    spec.process?.args = ["/bin/sleep", "100000"]
    let bundle = try Files.makeTemporaryDirectory(prefix: "crio-bench-floor")
    defer { Files.removeTree(bundle) }
    let root = bundle + "/runc-root"
    var samples: [Duration] = []
    for index in 0..<runs {
      let id = "crio-bench-floor-\(index)"
      spec.linux?.cgroupsPath = "/crio-bench-floor/\(id)"
      try Files.write(bundle + "/config.json", String(decoding: OCIJSON.encode(spec), as: UTF8.self))
      let began = ContinuousClock.now
      let create = try Processes.spawn(DaemonProcess.runcPath, ["--root", root, "create", "--bundle", bundle, id], stdout: "/dev/null", stderr: bundle + "/runc.err")
      _ = await Processes.wait(create, timeout: .seconds(30))
      _ = try await Processes.run(DaemonProcess.runcPath, ["--root", root, "start", id])
      samples.append(ContinuousClock.now - began)
      _ = try await Processes.run(DaemonProcess.runcPath, ["--root", root, "delete", "--force", id])
    }
    rmdir("/sys/fs/cgroup/crio-bench-floor")
    for controller in (try? Files.list("/sys/fs/cgroup")) ?? [] { rmdir("/sys/fs/cgroup/\(controller)/crio-bench-floor") }
    report("floor: runc create + runc start of the daemon's bundle", samples)
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
