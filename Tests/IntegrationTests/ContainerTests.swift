#if canImport(Glibc)
import Glibc
#endif
import CRIAPI
import CRIClient
import GRPCCore
import OCI
import Support
import TestFixtures
import Testing

/// Containers as `crictl create/start/stop/rm/ps/inspect/logs/exec -s` use
/// them, with real runc and conmon, in pods with pinned namespaces.
@Suite struct ContainerTests {
  /// Runs `body` with a daemon that has pulled the busybox test image and
  /// runs one pod; everything is removed afterwards.
  func withPod<T: Sendable>(
    runtime: RuntimeType = .oci,
    extraConfig: String = "",
    pod configure: (inout Runtime_V1_PodSandboxConfig) -> Void = { _ in },
    _ body: (CRIConnection, DaemonProcess, String) async throws -> T
  ) async throws -> T {
    try await RegistryServer.withRunning { registry in
      try await TestImages.pushBusybox(to: registry)
      return try await withImageDaemon(registry: registry, extraConfig: extraConfig + runtime.config) { cri, daemon in
        _ = try await cri.pull("\(registry.host)/busybox:1")
        var pod = PodSandboxTests.podConfig()
        pod.logDirectory = daemon.directory + "/logs/pod"
        configure(&pod)
        let podID = try await PodSandboxTests.run(cri, pod)
        return try await body(cri, daemon, podID)
      }
    }
  }

  static func container(_ name: String, _ script: String, registryImage: String = "busybox:1") -> Runtime_V1_ContainerConfig {
    var config = Runtime_V1_ContainerConfig()
    config.metadata.name = name
    config.image.image = registryImage
    config.command = ["/bin/sh", "-c", script]
    config.logPath = "\(name)/0.log"
    config.labels = ["container": name]
    return config
  }

  func create(_ cri: CRIConnection, pod: String, _ config: Runtime_V1_ContainerConfig) async throws -> String {
    try await cri.runtime.createContainer(Runtime_V1_CreateContainerRequest.with {
      $0.podSandboxID = pod
      $0.config = config
    }).containerID
  }

  func start(_ cri: CRIConnection, _ id: String) async throws {
    _ = try await cri.runtime.startContainer(.with { $0.containerID = id })
  }

  func status(_ cri: CRIConnection, _ id: String) async throws -> Runtime_V1_ContainerStatus {
    try await cri.runtime.containerStatus(.with { $0.containerID = id }).status
  }

  func waitUntilExited(_ cri: CRIConnection, _ id: String) async throws -> Runtime_V1_ContainerStatus {
    let deadline = ContinuousClock.now + .seconds(30)
    while ContinuousClock.now < deadline {
      let current = try await status(cri, id)
      if current.state == .containerExited { return current }
      try await Task.sleep(for: .milliseconds(20))
    }
    return try await status(cri, id)
  }

  @Test(arguments: RuntimeType.allCases)
  func runsAContainerToCompletionWithItsLogAndExitCode(_ runtime: RuntimeType) async throws {
    try await withPod(runtime: runtime) { cri, daemon, pod in
      let id = try await create(cri, pod: pod, Self.container("hello", "echo hello from $(hostname); echo oops >&2; exit 3"))
      #expect(try await status(cri, id).state == .containerCreated)
      try await start(cri, id)
      let done = try await waitUntilExited(cri, id)
      #expect(done.state == .containerExited)
      #expect(done.exitCode == 3)
      #expect(done.reason == "Error")
      #expect(done.startedAt > 0 && done.finishedAt >= done.startedAt)
      #expect(done.logPath == daemon.directory + "/logs/pod/hello/0.log")
      let log = try Files.read(done.logPath)
      let lines = log.split(separator: "\n")
      #expect(lines.contains { $0.hasSuffix(" stdout F hello from web") }, "CRI log format: \(log)")
      #expect(lines.contains { $0.hasSuffix(" stderr F oops") })
      #expect(done.labels == ["container": "hello"])

      let listed = try await cri.runtime.listContainers(.with { $0.filter.podSandboxID = pod }).containers
      #expect(listed.map(\.id) == [id])
      _ = try await cri.runtime.removeContainer(.with { $0.containerID = id })
      #expect(try await cri.runtime.listContainers(.init()).containers.isEmpty)
      #expect(!daemon.mounts().contains { $0.hasSuffix(id + "/rootfs") }, "the overlay is unmounted")
    }
  }

  @Test(arguments: RuntimeType.allCases)
  func execSyncStopAndRemoveARunningContainer(_ runtime: RuntimeType) async throws {
    try await withPod(runtime: runtime) { cri, _, pod in
      let id = try await create(cri, pod: pod, Self.container("web", "trap 'exit 131' QUIT; echo ready > /tmp/ready; sleep 1000 & wait"))
      try await start(cri, id)
      #expect(try await status(cri, id).state == .containerRunning)

      let hi = try await cri.runtime.execSync(.with { $0.containerID = id; $0.cmd = ["/bin/sh", "-c", "echo hi; echo err >&2; exit 7"]; $0.timeout = 10 })
      #expect(String(decoding: hi.stdout, as: UTF8.self) == "hi\n")
      #expect(String(decoding: hi.stderr, as: UTF8.self) == "err\n")
      #expect(hi.exitCode == 7)
      // The container sees the pod's files.
      let hostname = try await cri.runtime.execSync(.with { $0.containerID = id; $0.cmd = ["/bin/cat", "/etc/hostname", "/etc/resolv.conf"] })
      #expect(String(decoding: hostname.stdout, as: UTF8.self).hasPrefix("web\nsearch default.svc.cluster.local"))
      // A timeout is an answer with a non-zero code, not an RPC error.
      let slow = try await cri.runtime.execSync(.with { $0.containerID = id; $0.cmd = ["/bin/sleep", "30"]; $0.timeout = 1 })
      #expect(slow.exitCode != 0)

      _ = try await cri.runtime.stopContainer(.with { $0.containerID = id; $0.timeout = 10 })
      let stopped = try await status(cri, id)
      #expect(stopped.state == .containerExited)
      #expect(stopped.exitCode == 131, "the image's StopSignal (SIGQUIT) is what stops it")
      // Stopping again succeeds; exec in a stopped container is refused.
      _ = try await cri.runtime.stopContainer(.with { $0.containerID = id; $0.timeout = 10 })
      #expect(await rpcCode { try await cri.runtime.execSync(.with { $0.containerID = id; $0.cmd = ["true"] }) } == .failedPrecondition)
      _ = try await cri.runtime.removeContainer(.with { $0.containerID = id })
      _ = try await cri.runtime.removeContainer(.with { $0.containerID = id })  // idempotent
    }
  }

  @Test func badContainerRequestsAreRefusedAndLeaveNothing() async throws {
    // A missing mount source is made, as CRI-O does, unless the operator lists it.
    let rejected = "[crio.runtime]\nabsent_mount_sources_to_reject = [\"/nonexistent/host/dir\"]\n"
    try await withPod(extraConfig: rejected) { cri, daemon, pod in
      let mountsBefore = daemon.mounts()
      let unknownPod = await rpcCode {
        try await cri.runtime.createContainer(.with { $0.podSandboxID = "0000"; $0.config = Self.container("x", "true") })
      }
      #expect(unknownPod == .notFound)
      let unknownImage = await rpcCode { try await create(cri, pod: pod, Self.container("x", "true", registryImage: "nothere:1")) }
      #expect(unknownImage == .notFound)
      var escape = Self.container("y", "true")
      escape.logPath = "../../escape.log"
      #expect(await rpcCode { try await create(cri, pod: pod, escape) } == .invalidArgument)
      var missingMount = Self.container("z", "true")
      missingMount.mounts = [.with { $0.containerPath = "/data"; $0.hostPath = "/nonexistent/host/dir" }]
      #expect(await rpcCode { try await create(cri, pod: pod, missingMount) } == .invalidArgument)
      // A mount over /proc/sys/kernel: refused naming the mount, not runc's raw words as INTERNAL.
      var procMount = Self.container("p", "true")
      procMount.mounts = [.with { $0.containerPath = "/proc/sys/kernel"; $0.hostPath = "/tmp" }]
      do {
        _ = try await create(cri, pod: pod, procMount)
        Issue.record("a mount onto /proc/sys/kernel was accepted")
      } catch let error as RPCError {
        #expect(error.code == .invalidArgument && error.message.contains("mounts[0].container_path /proc/sys/kernel"), "\(error)")
      }
      #expect(try await cri.runtime.listContainers(.init()).containers.isEmpty)
      #expect(daemon.mounts() == mountsBefore, "no overlay left mounted")
      #expect(await rpcCode { try await cri.runtime.containerStatus(.with { $0.containerID = "ffff" }) } == .notFound)
      // A name can be used once the failed creations are gone.
      let id = try await create(cri, pod: pod, Self.container("x", "true"))
      #expect(await rpcCode { try await create(cri, pod: pod, Self.container("x", "true")) } == .alreadyExists)
      _ = try await cri.runtime.removeContainer(.with { $0.containerID = id })
    }
  }

  @Test func anImageInUseIsNotRemovedAndContainersCountInImageFsInfo() async throws {
    try await withPod { cri, daemon, pod in
      let id = try await create(cri, pod: pod, Self.container("user", "echo data > /written; true"))
      try await start(cri, id)
      _ = try await waitUntilExited(cri, id)
      let image = try #require(try await cri.listImages().first)
      #expect(await rpcCode { try await cri.remove(image.id) } == .failedPrecondition)
      #expect(try await cri.listImages().count == 1)
      let info = try await cri.image.imageFsInfo(.init())
      let writable = try #require(info.containerFilesystems.first)
      #expect(writable.fsID.mountpoint == daemon.directory + "/root/containers")
      #expect(writable.inodesUsed.value > 0, "the container's upper layer is counted")
      _ = try await cri.runtime.removeContainer(.with { $0.containerID = id })
      try await cri.remove(image.id)
      #expect(try await cri.listImages().isEmpty)
    }
  }

  @Test(arguments: RuntimeType.allCases)
  func removingThePodRemovesItsContainers(_ runtime: RuntimeType) async throws {
    try await withPod(runtime: runtime) { cri, daemon, pod in
      let id = try await create(cri, pod: pod, Self.container("loop", "trap 'exit 0' QUIT; sleep 1000 & wait"))
      try await start(cri, id)
      try await PodSandboxTests.stop(cri, pod)
      #expect(try await status(cri, id).state == .containerExited)
      try await PodSandboxTests.remove(cri, pod)
      #expect(try await cri.runtime.listContainers(.init()).containers.isEmpty)
      #expect(daemon.mounts().isEmpty, "\(daemon.mounts())")
    }
  }

  /// What a reboot does to a running container: its process, its monitor
  /// and runc's state are gone, and no exit was recorded. The restarted
  /// daemon reports it exited (255, as CRI-O for an exit it cannot know)
  /// rather than running with no process.
  @Test(conmonOnly) func aContainerLostWhileTheDaemonWasDownIsReportedExited() async throws {
    try await RegistryServer.withRunning { registry in
      try await TestImages.pushBusybox(to: registry)
      let dir = try Files.makeTemporaryDirectory(prefix: "crio-lost")
      defer { Files.removeTree(dir) }
      try await acrossAKilledDaemon(config: try registry.pullConfiguration(in: dir)) { cri, _ in
        _ = try await cri.pull("\(registry.host)/busybox:1")
        let pod = try await PodSandboxTests.run(cri, PodSandboxTests.podConfig())
        var container = Self.container("lost", "sleep 1000", registryImage: "\(registry.host)/busybox:1")
        container.logPath = ""
        let id = try await create(cri, pod: pod, container)
        try await start(cri, id)
        return (pod, id)
      } whileDown: { daemon, started in
        // The monitor first, and gone (so no exit is recorded: SIGKILL lands
        // when it is next scheduled), then runc's state with the process.
        let monitors = daemon.processes().filter { ((try? Files.read("/proc/\($0)/comm")) ?? "").hasPrefix("conmon") }
        #expect(!monitors.isEmpty)
        for process in monitors { kill(process, SIGKILL) }
        await Processes.waitForEnd(monitors, timeout: .seconds(5))
        for process in daemon.processes() { kill(process, SIGKILL) }
        _ = try await Processes.run(DaemonProcess.runcPath, ["--root", daemon.directory + "/runc", "delete", "--force", started.1])
        #expect(Files.kind(of: daemon.directory + "/exits/" + started.1) == .missing)
      } after: { cri, restarted, started in
        let (pod, id) = started
        let status = try await status(cri, id)
        #expect(status.state == .containerExited && status.exitCode == 255, "\(status.state) \(status.exitCode)")
        #expect(try await cri.runtime.listContainers(.with { $0.filter.state.state = .containerRunning }).containers.isEmpty)
        try await PodSandboxTests.remove(cri, pod)
        #expect(restarted.mounts().isEmpty, "\(restarted.mounts())")
      }
    }
  }

  @Test(arguments: RuntimeType.allCases)
  func aRunningContainerSurvivesAKilledDaemon(_ runtime: RuntimeType) async throws {
    try await RegistryServer.withRunning { registry in
      try await TestImages.pushBusybox(to: registry)
      let dir = try Files.makeTemporaryDirectory(prefix: "crio-rc")
      defer { Files.removeTree(dir) }
      try await acrossAKilledDaemon(config: try registry.pullConfiguration(in: dir) + runtime.config) { cri, _ in
        _ = try await cri.pull("\(registry.host)/busybox:1")
        let pod = try await PodSandboxTests.run(cri, PodSandboxTests.podConfig())
        var container = Self.container("survivor", "trap 'exit 131' QUIT; sleep 1000 & wait", registryImage: "\(registry.host)/busybox:1")
        container.logPath = ""
        let id = try await create(cri, pod: pod, container)
        try await start(cri, id)
        return (pod, id)
      } after: { cri, restarted, started in
        let (pod, id) = started
        #expect(try await status(cri, id).state == .containerRunning, "its monitor kept it running")
        let exec = try await cri.runtime.execSync(.with { $0.containerID = id; $0.cmd = ["echo", "still here"] })
        #expect(String(decoding: exec.stdout, as: UTF8.self) == "still here\n")
        _ = try await cri.runtime.stopContainer(.with { $0.containerID = id; $0.timeout = 10 })
        #expect(try await status(cri, id).exitCode == 131)
        try await PodSandboxTests.remove(cri, pod)
        #expect(restarted.mounts().isEmpty)
      }
    }
  }
}
