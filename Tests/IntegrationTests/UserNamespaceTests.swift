#if canImport(Glibc)
import Glibc
#endif
import CRIAPI
import CRIClient
import GRPCCore
import Support
import TestFixtures
import Testing

/// Pods with their own user namespace (`hostUsers: false`): real runc,
/// real idmapped layers and volumes, checked from inside the container and
/// on the host.
@Suite struct UserNamespaceTests {
  let kit = ContainerTests()
  let behaviour = ContainerBehaviourTests()

  static let hostBase: UInt32 = 3_145_728  // 48 × 65536, as kubelet hands them out

  static func mapping(_ host: UInt32 = hostBase) -> [Runtime_V1_IDMapping] {
    [.with { $0.containerID = 0; $0.hostID = host; $0.length = 65536 }]
  }

  static func userns(_ host: UInt32 = hostBase) -> Runtime_V1_UserNamespace {
    .with {
      $0.mode = .pod
      $0.uids = mapping(host)
      $0.gids = mapping(host)
    }
  }

  @Test func runtimeAnnouncesUserNamespaces() async throws {
    try await withCRI { cri, _ in
      let status = try await cri.runtime.status(Runtime_V1_StatusRequest())
      #expect(!status.runtimeHandlers.isEmpty)
      // This kernel (6.x, ext4 or tmpfs under the test root) can do them.
      #expect(status.runtimeHandlers.allSatisfy { $0.features.userNamespaces })
    }
  }

  @Test func containerRunsAsRootOfItsOwnUserNamespace() async throws {
    try await kit.withPod(pod: { pod in
      pod.linux.securityContext.namespaceOptions.usernsOptions = Self.userns()
      pod.linux.securityContext.namespaceOptions.pid = .pod
      pod.linux.sysctls = ["kernel.shmmni": "2048", "net.ipv4.ip_unprivileged_port_start": "100"]
    }) { cri, daemon, pod in
      // A volume with files of two owners, as kubelet would pass with the
      // pod's mappings (an idmapped bind mount).
      let volume = daemon.directory + "/volume"
      try Files.makeDirectories(volume, mode: 0o755)
      try Files.write(volume + "/root-file", "r\n")
      try Files.write(volume + "/user-file", "u\n")
      #expect(chown(volume + "/user-file", 1000, 1000) == 0)

      var config = SecurityAndResourceTests.rootContainer(
        "userns",
        """
        cat /proc/self/uid_map /proc/self/gid_map; echo "uid=$(id -u)"; echo "groups=$(id -G)"
        stat -c 'bin %u:%g' /bin/busybox; stat -c 'root %u:%g' /
        touch /created && echo CREATED; mkdir -p /etc/made && echo MKDIR
        stat -c 'vol %n %u:%g' /vol/root-file /vol/user-file; touch /vol/written && echo VOLWRITE
        cat /proc/sys/kernel/shmmni /proc/sys/net/ipv4/ip_unprivileged_port_start
        echo "pid1=$(cat /proc/1/comm)"; echo hi > /etc/hosts && echo HOSTS
        exec sleep 1000
        """)
      config.linux.securityContext.namespaceOptions.usernsOptions = Self.userns()
      config.linux.securityContext.namespaceOptions.pid = .pod
      config.linux.securityContext.supplementalGroups = [1234]
      config.mounts = [.with {
        $0.hostPath = volume
        $0.containerPath = "/vol"
        $0.uidMappings = Self.mapping()
        $0.gidMappings = Self.mapping()
      }]
      let id = try await kit.create(cri, pod: pod, config)
      try await kit.start(cri, id)
      let lines = try await Self.logLines(cri, id, until: "HOSTS")
      let map = "0 \(Self.hostBase) 65536"
      #expect(lines.filter { $0.split(separator: " ").joined(separator: " ") == map }.count == 2, "\(lines)")
      #expect(lines.contains("uid=0"))
      // setgroups stays allowed in the pod's namespace (its maps were
      // written from outside), so supplemental groups apply.
      #expect(lines.contains { $0.hasPrefix("groups=") && $0.split(separator: " ").contains("1234") }, "\(lines)")
      // Image files and the writable layer's root belong to the container's root.
      #expect(lines.contains("bin 0:0"), "\(lines)")
      #expect(lines.contains("root 0:0"))
      #expect(lines.contains("CREATED") && lines.contains("MKDIR") && lines.contains("HOSTS"), "\(lines)")
      #expect(lines.contains("vol /vol/root-file 0:0"), "\(lines)")
      #expect(lines.contains("vol /vol/user-file 1000:1000"))
      #expect(lines.contains("VOLWRITE"))
      #expect(lines.contains("2048") && lines.contains("100"), "sysctls in namespaces the user namespace owns: \(lines)")
      #expect(lines.contains("pid1=pause"), "the pod's shared PID namespace: \(lines)")

      // On the host: the process runs as the mapped uid, new files in the
      // writable layer are the mapped root's, the volume's stay on disk as 0.
      let running = try await cri.runtime.containerStatus(.with { $0.containerID = id; $0.verbose = true })
      #expect(running.status.state == .containerRunning)
      let pid = try #require(Self.containerPID(daemon: daemon, id: id))
      let uidLine = try Files.read("/proc/\(pid)/status").split(separator: "\n").first { $0.hasPrefix("Uid:") }
      #expect(uidLine?.split(whereSeparator: { $0 == "\t" || $0 == " " }).dropFirst().first.map(String.init) == "\(Self.hostBase)")
      var info = stat()
      #expect(stat(volume + "/written", &info) == 0 && info.st_uid == 0 && info.st_gid == 0, "idmapped back to 0 on disk")
      let upper = daemon.directory + "/root/containers/\(id)/upper/created"
      #expect(stat(upper, &info) == 0 && info.st_uid == Self.hostBase, "\(upper) uid \(info.st_uid)")

      // Exec joins the same namespace.
      let exec = try await cri.runtime.execSync(.with { $0.containerID = id; $0.cmd = ["/bin/sh", "-c", "id -u; cat /proc/self/uid_map"]; $0.timeout = 10 })
      let execOut = String(decoding: exec.stdout, as: UTF8.self)
      #expect(execOut.hasPrefix("0\n") && execOut.contains("\(Self.hostBase)"), "\(execOut)")

      // No staging mount outlives the creation; stopping and removing the
      // pod leaves no namespace pin or mount behind.
      #expect(!daemon.mounts().contains { $0.hasSuffix("-layers") || $0.contains("/idmapped") }, "\(daemon.mounts())")
      try await PodSandboxTests.stop(cri, pod)
      try await PodSandboxTests.remove(cri, pod)
      #expect(daemon.mounts().isEmpty, "\(daemon.mounts())")
      #expect(((try? Files.list(daemon.directory + "/ns/userns")) ?? []).isEmpty)
    }
  }

  @Test func aUserNamespacePodTakesNewContainersAfterAKilledDaemon() async throws {
    try await RegistryServer.withRunning { registry in
      try await TestImages.pushBusybox(to: registry)
      let dir = try Files.makeTemporaryDirectory(prefix: "crio-userns-rc")
      defer { Files.removeTree(dir) }
      try await acrossAKilledDaemon(config: try registry.pullConfiguration(in: dir)) { cri, _ in
        var podConfig = PodSandboxTests.podConfig()
        podConfig.linux.securityContext.namespaceOptions.usernsOptions = Self.userns()
        _ = try await cri.pull("\(registry.host)/busybox:1")
        return try await PodSandboxTests.run(cri, podConfig)
      } after: { cri, restarted, pod in
        var container = ContainerTests.container("after-restart", "cat /proc/self/uid_map", registryImage: "\(registry.host)/busybox:1")
        container.logPath = ""
        let id = try await kit.create(cri, pod: pod, container)
        try await kit.start(cri, id)
        let status = try await kit.waitUntilExited(cri, id)
        #expect(status.exitCode == 0)
        let log = (try? Files.read(status.logPath)) ?? ""
        #expect(log.contains("\(Self.hostBase)"), "joined the pinned user namespace: \(log)")
        try await PodSandboxTests.stop(cri, pod)
        try await PodSandboxTests.remove(cri, pod)
        #expect(restarted.mounts().isEmpty, "\(restarted.mounts())")
      }
    }
  }

  @Test func badUserNamespaceRequestsAreRefused() async throws {
    try await kit.withPod(pod: { pod in
      pod.linux.securityContext.namespaceOptions.usernsOptions = Self.userns()
      pod.linux.securityContext.privileged = true
    }) { cri, daemon, pod in
      func podCode(_ change: (inout Runtime_V1_PodSandboxConfig) -> Void) async -> RPCError.Code? {
        var config = PodSandboxTests.podConfig(name: "bad-userns")
        config.linux.securityContext.namespaceOptions.usernsOptions = Self.userns(4_194_304)
        change(&config)
        return await rpcCode { _ = try await PodSandboxTests.run(cri, config) }
      }
      #expect(await podCode { $0.linux.securityContext.namespaceOptions.network = .node } == .invalidArgument)
      #expect(await podCode { $0.linux.securityContext.namespaceOptions.usernsOptions.gids = [] } == .invalidArgument)
      #expect(await podCode { $0.linux.securityContext.namespaceOptions.usernsOptions.mode = .container } == .invalidArgument)
      #expect(await podCode {
        $0.linux.securityContext.namespaceOptions.usernsOptions.uids = [
          .with { $0.containerID = 0; $0.hostID = 4_194_304; $0.length = 65536 },
          .with { $0.containerID = 1000; $0.hostID = 5_000_000; $0.length = 10 },
        ]
      } == .invalidArgument)
      #expect(await podCode { $0.linux.securityContext.namespaceOptions.usernsOptions.uids[0].length = UInt32.max } == .invalidArgument)

      var other = SecurityAndResourceTests.rootContainer("other-userns", "true")
      other.linux.securityContext.namespaceOptions.usernsOptions = Self.userns(4_194_304)
      #expect(await rpcCode { try await kit.create(cri, pod: pod, other) } == .invalidArgument)
      var privileged = SecurityAndResourceTests.rootContainer("privileged-userns", "true")
      privileged.linux.securityContext.namespaceOptions.usernsOptions = Self.userns()
      privileged.linux.securityContext.privileged = true
      #expect(await rpcCode { try await kit.create(cri, pod: pod, privileged) } == .invalidArgument)
      // Nothing of the refused requests is left.
      let pods = try await PodSandboxTests.list(cri)
      #expect(pods.count == 1)
      #expect(((try? Files.list(daemon.directory + "/ns/userns")) ?? []).count == 1)
    }
  }

  /// The container's log as text lines, once one of them is `last` (or the
  /// container has exited).
  static func logLines(_ cri: CRIConnection, _ id: String, until last: String) async throws -> [String] {
    var lines: [String] = []
    for _ in 0..<200 {
      let status = try await cri.runtime.containerStatus(.with { $0.containerID = id }).status
      lines = ((try? Files.read(status.logPath)) ?? "").split(separator: "\n").map { line in
        // CRI log lines: "<time> stdout F <text>".
        String(line.split(separator: " ", maxSplits: 3).last ?? "").trimmingWhitespace
      }
      if lines.contains(last) || status.state == .containerExited { break }
      try await Task.sleep(for: .milliseconds(100))
    }
    return lines
  }

  /// The container's host PID, from runc's state (ContainerStatus does not carry it).
  static func containerPID(daemon: DaemonProcess, id: String) -> pid_t? {
    guard let state = try? Files.read(daemon.directory + "/runc/\(id)/state.json"),
      let range = state.range(of: "\"init_process_pid\":")
    else { return nil }
    return pid_t(state[range.upperBound...].prefix { $0.isNumber })
  }
}
