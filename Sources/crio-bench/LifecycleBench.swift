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

/// Pod and container lifecycle latencies (RunPodSandbox, Create+Start,
/// StopContainer, StopPodSandbox, RemovePodSandbox), beside bare
/// `runc create` + `runc start` of an equivalent bundle (the floor), and the
/// memory of the daemon plus its conmons with many running containers.
struct LifecycleBench: AsyncParsableCommand {
  static let configuration = CommandConfiguration(commandName: "lifecycle")

  @Option(help: "Pods (one container each) to time.") var runs = 20
  @Option(help: "Running containers for the memory figure.") var containers = 100
  @Flag(help: "Give every pod its own user namespace (kubelet's hostUsers: false): idmapped layers.")
  var userNamespace = false

  func run() async throws {
    try await RegistryServer.withRunning { registry in
      let image = "\(registry.host)/lifecycle:1"
      let rootfs = try await BenchImage.push(
        to: registry, repository: "lifecycle", applets: ["sh", "sleep"], cmd: ["/bin/sleep", "100000"])
      let dir = try Files.makeTemporaryDirectory(prefix: "crio-bench")
      defer { Files.removeTree(dir) }
      // DaemonProcess gives pods a loopback-only network: no CNI bridge cost.
      let daemon = try DaemonProcess(config: try registry.pullConfiguration(in: dir))
      try await withCleanUp {
        try await daemon.waitUntilReady(timeout: .seconds(30))
        try await CRIConnection.with(socket: daemon.socket) { cri in
          _ = try await cri.image.pullImage(.with { $0.image.image = image })
          try await measureLifecycle(cri, image: image)
          try await measureMemory(cri, daemon: daemon, image: image)
        }
        try await measureRuncFloor(rootfs: rootfs, in: dir)
      } cleanUp: {
        await daemon.cleanUp()
      }
    }
  }

  func pod(_ index: Int) -> Runtime_V1_PodSandboxConfig {
    .with {
      $0.metadata.name = "bench-\(index)"
      $0.metadata.namespace = "bench"
      $0.metadata.uid = "uid-bench-\(index)"
      if userNamespace { $0.linux.securityContext.namespaceOptions.usernsOptions = Self.userns }
    }
  }

  func container(_ image: String) -> Runtime_V1_ContainerConfig {
    .with {
      $0.metadata.name = "sleeper"
      $0.image.image = image
      $0.command = ["/bin/sleep", "100000"]
      if userNamespace { $0.linux.securityContext.namespaceOptions.usernsOptions = Self.userns }
    }
  }

  /// Container IDs 0-65535 as host IDs from 3145728, as kubelet would hand out.
  static let userns = Runtime_V1_UserNamespace.with {
    let range = Runtime_V1_IDMapping.with { $0.hostID = 3_145_728; $0.length = 65536 }
    $0.mode = .pod
    $0.uids = [range]
    $0.gids = [range]
  }

  func measureLifecycle(_ cri: CRIConnection, image: String) async throws {
    var run: [Duration] = [], createStart: [Duration] = [], stopContainer: [Duration] = []
    var stopPod: [Duration] = [], remove: [Duration] = []
    func timed<T>(_ samples: inout [Duration], _ body: () async throws -> T) async rethrows -> T {
      let began = ContinuousClock.now
      let result = try await body()
      samples.append(ContinuousClock.now - began)
      return result
    }
    for index in 0..<runs {
      let config = pod(index)
      let podID = try await timed(&run) { try await cri.runtime.runPodSandbox(.with { $0.config = config }).podSandboxID }
      let id = try await timed(&createStart) {
        let id = try await cri.runtime.createContainer(.with {
          $0.podSandboxID = podID
          $0.config = container(image)
          $0.sandboxConfig = config
        }).containerID
        _ = try await cri.runtime.startContainer(.with { $0.containerID = id })
        return id
      }
      // sleep as PID 1 ignores SIGTERM: a zero timeout kills it at once,
      // so this measures the daemon's path, not the container's patience.
      _ = try await timed(&stopContainer) { try await cri.runtime.stopContainer(.with { $0.containerID = id; $0.timeout = 0 }) }
      _ = try await timed(&stopPod) { try await cri.runtime.stopPodSandbox(.with { $0.podSandboxID = podID }) }
      _ = try await timed(&remove) { try await cri.runtime.removePodSandbox(.with { $0.podSandboxID = podID }) }
    }
    report("RunPodSandbox", run)
    report("CreateContainer + StartContainer", createStart)
    report("StopContainer (timeout 0)", stopContainer)
    report("StopPodSandbox", stopPod)
    report("RemovePodSandbox (with its container)", remove)
  }

  func measureMemory(_ cri: CRIConnection, daemon: DaemonProcess, image: String) async throws {
    try await Task.sleep(for: .milliseconds(500))
    print("daemon RSS idle (image pulled): \(rssMiB(daemon.pid)) MiB")
    let podID = try await cri.runtime.runPodSandbox(.with { $0.config = pod(1000) }).podSandboxID
    for index in 0..<containers {
      var config = container(image)
      config.metadata.name = "sleeper-\(index)"
      let id = try await cri.runtime.createContainer(.with {
        $0.podSandboxID = podID
        $0.config = config
        $0.sandboxConfig = pod(1000)
      }).containerID
      _ = try await cri.runtime.startContainer(.with { $0.containerID = id })
    }
    try await Task.sleep(for: .seconds(1))
    var statsTimes: [Duration] = []
    for _ in 0..<20 {
      let began = ContinuousClock.now
      _ = try await cri.runtime.listContainerStats(.init())
      statsTimes.append(ContinuousClock.now - began)
    }
    report("ListContainerStats with \(containers) running containers", statsTimes)
    let conmons = daemon.processes().filter { ((try? Files.read("/proc/\($0)/comm")) ?? "").hasPrefix("conmon") }
    let conmonKiB = conmons.reduce(0) { $0 + kibibytes("VmRSS", $1) }
    let daemonKiB = kibibytes("VmRSS", daemon.pid)
    print("with \(containers) running containers: daemon RSS \(daemonKiB / 1024) MiB, \(conmons.count) conmons \(conmonKiB / 1024) MiB (\(conmonKiB / max(conmons.count, 1)) KiB each), total \((daemonKiB + conmonKiB) / 1024) MiB")
    // RSS counts shared pages (conmon's glib, the daemon's binary) once per
    // process; PSS splits them among their sharers.
    let pss = ([daemon.pid] + conmons).reduce(0) { $0 + kibibytes("Pss", $1, in: "smaps_rollup") }
    print("  proportional (PSS): daemon \(kibibytes("Pss", daemon.pid, in: "smaps_rollup") / 1024) MiB, daemon + conmons \(pss / 1024) MiB")
    let began = ContinuousClock.now
    _ = try await cri.runtime.stopPodSandbox(.with { $0.podSandboxID = podID })
    _ = try await cri.runtime.removePodSandbox(.with { $0.podSandboxID = podID })
    print("stop + remove of the pod with \(containers) containers: \(milliseconds(ContinuousClock.now - began)) ms")
  }

  /// The same container done by hand: `runc create` + `runc start` of a
  /// bundle from `runc spec` on a copy of the image's root.
  func measureRuncFloor(rootfs: TarBuilder, in dir: String) async throws {
    let runc = DaemonProcess.runcPath
    let bundle = dir + "/floor"
    try Files.makeDirectories(bundle + "/rootfs", mode: 0o755)
    let tarFile = open(dir + "/rootfs.tar", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    try Files.writeAll(tarFile, rootfs.bytes)
    close(tarFile)
    _ = try await Processes.run("/bin/tar", ["-xf", dir + "/rootfs.tar", "-C", bundle + "/rootfs"])
    _ = try await Processes.run(runc, ["spec", "--bundle", bundle])
    var spec = try Files.read(bundle + "/config.json")
    spec = spec.replacingFirst(#""sh""#, with: #""/bin/sleep", "100000""#)
      .replacingFirst(#""terminal": true"#, with: #""terminal": false"#)
    try Files.write(bundle + "/config.json", spec)
    let root = dir + "/runc-root"
    var samples: [Duration] = []
    for index in 0..<runs {
      let id = "crio-bench-floor-\(index)"
      let began = ContinuousClock.now
      let create = try Processes.spawn(runc, ["--root", root, "create", "--bundle", bundle, id], stdout: "/dev/null", stderr: dir + "/runc.err")
      _ = await Processes.wait(create, timeout: .seconds(30))
      _ = try await Processes.run(runc, ["--root", root, "start", id])
      samples.append(ContinuousClock.now - began)
      _ = try await Processes.run(runc, ["--root", root, "delete", "--force", id])
    }
    report("floor: runc create + runc start", samples)
  }
}

extension String {
  /// The text with the first occurrence of `target` replaced.
  fileprivate func replacingFirst(_ target: String, with replacement: String) -> String {
    let characters = Array(self), pattern = Array(target)
    guard pattern.count <= characters.count else { return self }
    for start in 0...(characters.count - pattern.count) where Array(characters[start..<start + pattern.count]) == pattern {
      return String(characters[..<start]) + replacement + String(characters[(start + pattern.count)...])
    }
    return self
  }
}
