#if canImport(Glibc)
import Glibc
#endif
import CRIAPI
import CRIClient
import FoundationEssentials
import GRPCCore
import Support
import TestFixtures
import Testing

/// `drop_infra_ctr = false`: every pod runs an infra container from
/// `pause_image` (pulled when missing, with `pause_image_auth_file`'s
/// credentials), running `pause_command` in the pod's namespaces, on
/// `infra_ctr_cpuset`; kubelet never sees it, and it goes with the pod.
@Suite struct PodInfraTests {
  let kit = ContainerTests()

  /// What runc says of a container of the daemon's runc root.
  struct RuncState: Decodable {
    var id: String
    var pid: Int32
    var status: String
    var bundle: String
  }

  static func runcState(_ daemon: DaemonProcess, _ id: String) async throws -> RuncState? {
    let result = try await Processes.run(DaemonProcess.runcPath, ["--root", daemon.directory + "/runc", "state", id])
    guard result.status == 0 else { return nil }
    return try JSONDecoder().decode(RuncState.self, from: Data(result.stdout.utf8))
  }

  static func runcList(_ daemon: DaemonProcess) async throws -> [String] {
    let result = try await Processes.run(DaemonProcess.runcPath, ["--root", daemon.directory + "/runc", "list", "-q"])
    return result.stdout.split(separator: "\n").map(String.init)
  }

  /// The one variable the infra's environment holds (PodInfraSpec.path).
  static let pausePath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

  /// `net:[4026…]`: a process's namespace of one kind.
  static func namespace(_ pid: Int32, _ kind: String) -> String? {
    var buffer = [CChar](repeating: 0, count: 64)
    let length = readlink("/proc/\(pid)/ns/\(kind)", &buffer, 63)
    return length > 0 ? String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self) : nil
  }

  static func statusField(_ pid: Int32, _ name: String) -> String {
    let status = (try? Files.read("/proc/\(pid)/status")) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix(name + ":") } ?? ""
    return line.dropFirst(name.count + 1).split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
  }

  /// Whether the infra process `pid`, of PID namespace `namespace`, still runs.
  static func alive(_ pid: Int32, namespace: String?) -> Bool {
    namespace != nil && Self.namespace(pid, "pid") == namespace
      && Processes.isAlive(pid)
  }

  /// A daemon with an infra container in every pod, pulling the pause
  /// image from a loopback registry; busybox is pulled for containers.
  func withInfraDaemon<T: Sendable>(
    cpuset: String = "", _ body: (CRIConnection, DaemonProcess, RegistryServer) async throws -> T
  ) async throws -> T {
    try await RegistryServer.withRunning { registry in
      try await TestImages.pushBusybox(to: registry)
      try await TestImages.pushPause(to: registry)
      return try await withImageDaemon(registry: registry, extraConfig: TestImages.infraConfiguration(registry: registry, cpuset: cpuset)) {
        cri, daemon in
        _ = try await cri.pull("\(registry.host)/busybox:1")
        return try await body(cri, daemon, registry)
      }
    }
  }

  func sleeper(_ cri: CRIConnection, pod: String, name: String = "sleeper", sharedPID: Bool) async throws -> String {
    var config = ContainerTests.container(name, "sleep 1000")
    config.linux.securityContext.namespaceOptions.pid = sharedPID ? .pod : .container
    let id = try await kit.create(cri, pod: pod, config)
    try await kit.start(cri, id)
    return id
  }

  @Test func everyPodRunsAnInfraContainerInItsNamespaces() async throws {
    try await withInfraDaemon(cpuset: "0") { cri, daemon, registry in
      var config = PodSandboxTests.podConfig(name: "infra")
      config.linux.securityContext.namespaceOptions.pid = .container
      config.logDirectory = daemon.directory + "/logs/infra"
      let pod = try await PodSandboxTests.run(cri, config)
      // The pause image was pulled for it.
      #expect(try await cri.status("\(registry.host)/pause:1").hasImage)

      // runc runs it under the pod's ID; kubelet does not see it.
      let infra = try #require(try await Self.runcState(daemon, pod), "runc knows the infra container")
      #expect(infra.status == "running")
      #expect(try await Self.runcList(daemon) == [pod])
      #expect(try await cri.runtime.listContainers(.init()).containers.isEmpty, "the infra container is not listed")
      #expect(try await PodSandboxTests.list(cri).map(\.state) == [.sandboxReady])

      // It runs pause_command (CRI-O's default, /pause) from the pause image.
      let commandLine = try Files.readBytes("/proc/\(infra.pid)/cmdline")
      #expect(commandLine == Array("/pause".utf8) + [0])
      #expect(Self.statusField(infra.pid, "Uid").hasPrefix("65535"), "as the pause image's user")
      #expect(Self.statusField(infra.pid, "CapEff") == "0000000000000000")
      #expect(Self.statusField(infra.pid, "NoNewPrivs") == "1")
      #expect(Self.statusField(infra.pid, "Seccomp") == "2")
      #expect(daemon.mounts().contains(infra.bundle + "/rootfs"), "its root is the pause image's overlay in the pod's directory")

      // infra_ctr_cpuset, in its spec and as the kernel applies it.
      let spec = try Files.read(infra.bundle + "/config.json")
      #expect(spec.contains(#""cpus":"0""#), "linux.resources.cpu.cpus: \(spec)")
      #expect(Self.statusField(infra.pid, "Cpus_allowed_list") == "0")

      // CRI-O's inspection API describes the pod by its infra container.
      let described = try UnixHTTP.get("/containers/\(pod)", socket: daemon.socket)
      let podInfo = try JSONDecoder().decode(CAdvisorContainerInfo.self, from: Data(described.body.utf8))
      #expect(podInfo.pid == Int(infra.pid) && podInfo.image == "\(registry.host)/pause:1" && podInfo.sandbox == pod)

      // The pod's containers share its network, IPC and UTS namespaces.
      let container = try await sleeper(cri, pod: pod, sharedPID: false)
      let process = try #require(try await Self.runcState(daemon, container)).pid
      for kind in ["net", "ipc", "uts"] {
        #expect(Self.namespace(infra.pid, kind) != nil && Self.namespace(infra.pid, kind) == Self.namespace(process, kind), "\(kind) namespace")
      }
      #expect(Self.namespace(infra.pid, "pid") != Self.namespace(process, "pid"), "no shared PID namespace was asked for")

      // The pause image is in use while the pod is there.
      #expect(await rpcCode { try await cri.remove("\(registry.host)/pause:1") } == .failedPrecondition)

      // Stopping the pod ends it; removing it leaves nothing.
      let infraNamespace = Self.namespace(infra.pid, "pid")
      try await PodSandboxTests.stop(cri, pod)
      #expect(!Self.alive(infra.pid, namespace: infraNamespace), "the infra container has ended")
      #expect(try await Self.runcState(daemon, pod) == nil)
      #expect(!daemon.mounts().contains { $0.contains(pod) }, "no mount of the pod is left: \(daemon.mounts())")
      try await PodSandboxTests.remove(cri, pod)
      #expect(try await Self.runcList(daemon).isEmpty)
      #expect(!daemon.mounts().contains { $0.contains(pod) })
      #expect(Files.kind(of: daemon.directory + "/run/pods/" + pod) == .missing)
      #expect(await eventually { daemon.processes().isEmpty }, "no process left: \(daemon.processes())")
      try await cri.remove("\(registry.host)/pause:1")
    }
  }

  @Test func theInfraContainerIsThePIDOneOfASharedPIDNamespace() async throws {
    try await withInfraDaemon { cri, daemon, _ in
      var config = PodSandboxTests.podConfig(name: "infra-pid")
      config.linux.securityContext.namespaceOptions.pid = .pod
      config.logDirectory = daemon.directory + "/logs/infra-pid"
      let pod = try await PodSandboxTests.run(cri, config)
      let infra = try #require(try await Self.runcState(daemon, pod))
      #expect(infra.bundle.hasSuffix("/\(pod)/infra"), "the infra container, not the pod init: \(infra.bundle)")
      // In its own PID namespace, it is 1.
      #expect(Self.statusField(infra.pid, "NSpid").hasSuffix(" 1"), "NSpid \(Self.statusField(infra.pid, "NSpid"))")

      let container = try await sleeper(cri, pod: pod, sharedPID: true)
      let process = try #require(try await Self.runcState(daemon, container)).pid
      #expect(Self.namespace(process, "pid") == Self.namespace(infra.pid, "pid"))
      let seen = try await cri.runtime.execSync(.with { $0.containerID = container; $0.cmd = ["cat", "/proc/1/cmdline"]; $0.timeout = 20 })
      #expect([UInt8](seen.stdout) == Array("/pause".utf8) + [0], "the container sees the pause as PID 1")

      let infraNamespace = Self.namespace(infra.pid, "pid")
      try await PodSandboxTests.stop(cri, pod)
      #expect(!Self.alive(infra.pid, namespace: infraNamespace))
      #expect(!Self.alive(process, namespace: infraNamespace), "its namespace ended with it")
      try await PodSandboxTests.remove(cri, pod)
      #expect(try await Self.runcList(daemon).isEmpty)
      #expect(!daemon.mounts().contains { $0.contains(pod) })
      #expect(await eventually { daemon.processes().isEmpty }, "no process left: \(daemon.processes())")
    }
  }

  /// In a pod with its own user namespace, the pause image's files are
  /// idmapped and the infra runs as the pod's 65535 (no one on the host).
  @Test func theInfraContainerRunsInThePodsUserNamespace() async throws {
    try await withInfraDaemon { cri, daemon, _ in
      var config = PodSandboxTests.podConfig(name: "infra-userns")
      config.linux.securityContext.namespaceOptions.usernsOptions = UserNamespaceTests.userns()
      config.linux.securityContext.namespaceOptions.pid = .pod
      config.logDirectory = daemon.directory + "/logs/infra-userns"
      let pod = try await PodSandboxTests.run(cri, config)
      let infra = try #require(try await Self.runcState(daemon, pod))
      #expect(Self.statusField(infra.pid, "Uid").hasPrefix("\(UserNamespaceTests.hostBase + 65535)"), "Uid \(Self.statusField(infra.pid, "Uid"))")

      var sleeper = ContainerTests.container("sleeper", "sleep 1000")
      sleeper.linux.securityContext.namespaceOptions.usernsOptions = UserNamespaceTests.userns()
      sleeper.linux.securityContext.namespaceOptions.pid = .pod
      let container = try await kit.create(cri, pod: pod, sleeper)
      try await kit.start(cri, container)
      let process = try #require(try await Self.runcState(daemon, container)).pid
      for kind in ["user", "pid", "net", "ipc", "uts"] {
        #expect(Self.namespace(process, kind) != nil && Self.namespace(process, kind) == Self.namespace(infra.pid, kind), "\(kind) namespace")
      }
      let seen = try await cri.runtime.execSync(.with { $0.containerID = container; $0.cmd = ["cat", "/proc/1/cmdline"]; $0.timeout = 20 })
      #expect([UInt8](seen.stdout) == Array("/pause".utf8) + [0])

      try await PodSandboxTests.stop(cri, pod)
      try await PodSandboxTests.remove(cri, pod)
      #expect(try await Self.runcList(daemon).isEmpty)
      #expect(!daemon.mounts().contains { $0.contains(pod) }, "no mount left: \(daemon.mounts())")
      #expect(await eventually { daemon.processes().isEmpty }, "no process left: \(daemon.processes())")
    }
  }

  @Test func theInfraContainerOutlivesAKilledDaemon() async throws {
    try await RegistryServer.withRunning { registry in
      try await TestImages.pushBusybox(to: registry)
      try await TestImages.pushPause(to: registry)
      let directory = try Files.makeTemporaryDirectory(prefix: "crio-infra")
      defer { Files.removeTree(directory) }
      let config = try registry.pullConfiguration(in: directory) + "\n" + TestImages.infraConfiguration(registry: registry)
      struct Before: Sendable { var pod: String; var container: String; var infra: Int32; var namespace: String? }
      try await acrossAKilledDaemon(config: config) { cri, daemon in
        _ = try await cri.pull("\(registry.host)/busybox:1")
        var podConfig = PodSandboxTests.podConfig(name: "infra-crash")
        podConfig.linux.securityContext.namespaceOptions.pid = .pod
        podConfig.logDirectory = daemon.directory + "/logs/infra-crash"
        let pod = try await PodSandboxTests.run(cri, podConfig)
        let container = try await sleeper(cri, pod: pod, sharedPID: true)
        let infra = try #require(try await Self.runcState(daemon, pod)).pid
        return Before(pod: pod, container: container, infra: infra, namespace: Self.namespace(infra, "pid"))
      } after: { cri, daemon, before in
        #expect(Self.alive(before.infra, namespace: before.namespace), "the infra container still runs")
        #expect(try await PodSandboxTests.list(cri).map(\.state) == [.sandboxReady])
        #expect(try await cri.runtime.listContainers(.init()).containers.map(\.id) == [before.container])
        let seen = try await cri.runtime.execSync(.with { $0.containerID = before.container; $0.cmd = ["cat", "/proc/1/cmdline"]; $0.timeout = 20 })
        #expect([UInt8](seen.stdout) == Array("/pause".utf8) + [0])
        // A new container joins the same PID namespace.
        let another = try await sleeper(cri, pod: before.pod, name: "another", sharedPID: true)
        let process = try #require(try await Self.runcState(daemon, another)).pid
        #expect(Self.namespace(process, "pid") == before.namespace)

        try await PodSandboxTests.stop(cri, before.pod)
        #expect(!Self.alive(before.infra, namespace: before.namespace))
        try await PodSandboxTests.remove(cri, before.pod)
        #expect(try await Self.runcList(daemon).isEmpty)
        #expect(!daemon.mounts().contains { $0.contains(before.pod) }, "no mount left: \(daemon.mounts())")
        #expect(await eventually { daemon.processes().isEmpty }, "no process left: \(daemon.processes())")
      }
    }
  }

  /// A pause_command the image lacks fails RunPodSandbox with runc's
  /// words, and nothing of the pod is left.
  @Test func aPauseCommandThatCannotRunFailsThePodCleanly() async throws {
    try await RegistryServer.withRunning { registry in
      try await TestImages.pushPause(to: registry)
      let extra = TestImages.infraConfiguration(registry: registry, more: #"pause_command = "/no-such-pause""#)
      try await withImageDaemon(registry: registry, extraConfig: extra) { cri, daemon in
        var config = PodSandboxTests.podConfig(name: "infra-bad")
        config.logDirectory = daemon.directory + "/logs/infra-bad"
        do {
          _ = try await PodSandboxTests.run(cri, config)
          Issue.record("the pod ran without its infra container")
        } catch let error as RPCError {
          #expect(error.message.contains("infra container") && error.message.contains("/no-such-pause"), "\(error.message)")
        }
        #expect(try await PodSandboxTests.list(cri).isEmpty)
        #expect(try await Self.runcList(daemon).isEmpty)
        #expect(daemon.mounts().filter { $0.contains("/run/pods/") }.isEmpty, "\(daemon.mounts())")
        #expect(((try? Files.list(daemon.directory + "/run/pods")) ?? []).isEmpty)
        #expect(await eventually { daemon.processes().isEmpty }, "no process left: \(daemon.processes())")
      }
    }
  }

  /// CPUs the host does not have would fail every pod: start-up stops.
  @Test func anInfraCpusetOfMissingCPUsStopsStartUp() async throws {
    let daemon = try DaemonProcess(config: "[crio.runtime]\ninfra_ctr_cpuset = \"0,4095\"\n")
    #expect(await daemon.waitForExit() == 1)
    #expect(daemon.log().contains(#"[crio.runtime] infra_ctr_cpuset = \"0,4095\" names CPUs this host does not have online (4095;"#), "\(daemon.log())")
    await daemon.cleanUp()
  }

  /// `pause_image_auth_file`: the pause image comes from a registry that
  /// wants credentials, which only that file holds (a plain pull fails).
  @Test func thePauseImageIsPulledWithItsOwnAuthFile() async throws {
    try await RegistryServer.withRunning(basicAuth: (user: "alice", password: "s3cret")) { registry in
      try await TestImages.pushPause(to: registry, credentials: ("alice", "s3cret"))
      let directory = try Files.makeTemporaryDirectory(prefix: "crio-pause-auth")
      defer { Files.removeTree(directory) }
      let authFile = directory + "/pause-auth.json"
      try Files.write(authFile, #"{"auths": {"\#(registry.host)": {"auth": "YWxpY2U6czNjcmV0"}}}"#, mode: 0o600)  // alice:s3cret
      let extra = TestImages.infraConfiguration(registry: registry, more: "pause_image_auth_file = \"\(authFile)\"")
      try await withImageDaemon(registry: registry, extraConfig: extra) { cri, daemon in
        let pause = "\(registry.host)/pause:1"
        #expect(await rpcCode { try await cri.pull(pause) } == .unauthenticated, "a pull without the pause auth file has no credentials")
        var config = PodSandboxTests.podConfig(name: "infra-auth")
        config.logDirectory = daemon.directory + "/logs/infra-auth"
        let pod = try await PodSandboxTests.run(cri, config)
        #expect(try await cri.status(pause).hasImage)
        #expect(try await Self.runcState(daemon, pod)?.status == "running")
        try await PodSandboxTests.stop(cri, pod)
        try await PodSandboxTests.remove(cri, pod)
      }
    }
  }
}
