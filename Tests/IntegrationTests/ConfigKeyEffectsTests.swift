#if canImport(Glibc)
import Glibc
#endif
import CRIAPI
import CRIClient
import Support
import TestFixtures
import Testing

/// crio.conf keys as a node operator sets them, seen from inside a real
/// container (runc under conmon): what the process gets, what it sees
/// mounted, what its monitor was started with.
@Suite struct ConfigKeyEffectsTests {
  let kit = ContainerTests()

  @Test(conmonOnly) func containerKeysTakeEffect() async throws {
    let scratch = try Files.makeTemporaryDirectory(prefix: "crio-config-keys-")
    defer { Files.removeTree(scratch) }
    try Files.makeDirectories(scratch + "/secrets", mode: 0o755)
    try Files.write(scratch + "/secrets/token", "s3cret\n")
    try Files.write(scratch + "/mounts.conf", """
      # what a subscription manager would list
      \(scratch)/secrets:/run/secrets
      \(scratch)/absent:/run/absent

      """)
    let config = """
      [crio.runtime]
      default_ulimits = ["nofile=1024:2048", "core=0:-1"]
      pids_limit = 100
      default_sysctls = ["net.ipv4.ping_group_range=0 2147483647", "kernel.msgmax=4096", "kernel.shmmni=2048"]
      timezone = "Europe/Berlin"
      default_mounts_file = "\(scratch)/mounts.conf"
      add_inheritable_capabilities = true
      no_pivot = true
      absent_mount_sources_to_reject = ["\(scratch)/must-exist"]
      [crio.runtime.runtimes.runc]
      monitor_env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "MONITOR_MARK=from-crio-conf"]
      """
    try await kit.withPod(extraConfig: config, pod: { $0.linux.sysctls = ["kernel.shmmni": "1024"] }) { cri, _, pod in
      var container = ContainerTests.container("keys", "sleep 1000")
      container.linux.securityContext.runAsUser = .with { $0.value = 0 }
      container.mounts = [.with { $0.hostPath = scratch + "/made/by/crio"; $0.containerPath = "/made" }]
      let id = try await kit.create(cri, pod: pod, container)
      try await kit.start(cri, id)
      func run(_ script: String) async throws -> String {
        let answer = try await cri.runtime.execSync(.with { $0.containerID = id; $0.cmd = ["/bin/sh", "-c", script]; $0.timeout = 10 })
        #expect(answer.exitCode == 0, "\(script): \(String(decoding: answer.stderr, as: UTF8.self))")
        return String(decoding: answer.stdout, as: UTF8.self).trimmingWhitespace().description
      }
      // The container's own process (the pod's init is pid 1 here), not an
      // exec'd shell: runc 1.1 (Go 1.19) sets an exec'd process's rlimits
      // from outside while Go's start-up inside raises the soft nofile to the
      // hard one, so whichever comes last wins. (Not nproc here: it counts
      // every process of the user on the host, and the container is root.)
      let limits = try await run("grep -e 'open files' -e 'core file' /proc/$(pidof sleep)/limits | tr -s ' ' | sed 's/ $//'")
      #expect(limits == "Max core file size 0 unlimited bytes\nMax open files 1024 2048 files")
      #expect(try await run("cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids/pids.max") == "100")
      // The defaults, with the pod's own sysctl winning over the configured one.
      #expect(try await run("cat /proc/sys/net/ipv4/ping_group_range /proc/sys/kernel/msgmax /proc/sys/kernel/shmmni")
        == "0\t2147483647\n4096\n1024")
      let berlin = try Files.readBytes("/usr/share/zoneinfo/Europe/Berlin")
      #expect(try await run("wc -c < /etc/localtime") == String(berlin.count))
      #expect(try await run("cat /run/secrets/token") == "s3cret")
      #expect(try await run("test -e /run/absent || echo skipped") == "skipped")
      // CRI-O's nine default capabilities, inheritable as well.
      let inheritable = try await run("grep -e CapInh -e CapBnd /proc/self/status")
      #expect(inheritable == "CapInh:\t00000000000005fb\nCapBnd:\t00000000000005fb")
      #expect(Files.kind(of: scratch + "/made/by/crio") == .directory, "a missing mount source is made as a directory")

      // conmon got what the handler's keys say, and nothing of the daemon's environment.
      let conmon = try #require(Self.conmon(of: id))
      #expect(conmon.arguments.contains("--no-pivot"))
      #expect(conmon.environment.contains("MONITOR_MARK=from-crio-conf"))
      #expect(!conmon.environment.contains { $0.hasPrefix("HOME=") })

      // A missing source the operator listed is refused, not made.
      var rejected = ContainerTests.container("rejected", "true")
      rejected.mounts = [.with { $0.hostPath = scratch + "/must-exist"; $0.containerPath = "/data" }]
      let refusal = await rpcError { _ = try await kit.create(cri, pod: pod, rejected) }
      #expect(refusal?.code == .invalidArgument)
      #expect(refusal?.message.contains("absent_mount_sources_to_reject") == true, "\(String(describing: refusal))")
      #expect(Files.kind(of: scratch + "/must-exist") == .missing)
    }
  }

  /// image_volumes: "bind" gives each image VOLUME an empty directory of the
  /// container's own, "ignore" leaves them out ("mkdir" is ContainerBehaviourTests').
  @Test(arguments: [("bind", "mounted"), ("ignore", "absent")])
  func imageVolumesFollowTheKey(mode: String, expected: String) async throws {
    try await RegistryServer.withRunning { registry in
      try await TestImages.pushBusybox(to: registry, repository: "volumes", volumes: ["/srv/cache/data"])
      let dropIn = { (directory: String) throws in
        try Files.makeDirectories(directory + "/crio.conf.d", mode: 0o755)
        try Files.write(directory + "/crio.conf.d/50-volumes.conf", "[crio.image]\nimage_volumes = \"\(mode)\"\n")
      }
      try await withImageDaemon(registry: registry, prepare: dropIn) { cri, _ in
        _ = try await cri.pull("\(registry.host)/volumes:1")
        let pod = try await PodSandboxTests.run(cri, PodSandboxTests.podConfig())
        let script = """
          if grep -q ' /srv/cache/data ' /proc/mounts; then echo mounted
          elif test -e /srv/cache/data; then echo made; else echo absent; fi
          """
        var container = ContainerTests.container("volumes", script, registryImage: "\(registry.host)/volumes:1")
        container.logPath = ""
        let run = try await ContainerBehaviourTests().runToEnd(cri, pod: pod, container)
        #expect(run.lines == [expected], "\(run.lines)")
      }
    }
  }

  /// grpc_max_send_msg_size: an answer over it is an error answer naming the
  /// limit, and the connection goes on serving.
  @Test func answersOverTheSendLimitAreRefused() async throws {
    try await kit.withPod(extraConfig: "[crio.api]\ngrpc_max_send_msg_size = 4096\n") { cri, _, pod in
      let id = try await kit.create(cri, pod: pod, ContainerTests.container("big", "sleep 1000"))
      try await kit.start(cri, id)
      let large = await rpcError {
        _ = try await cri.runtime.execSync(.with { $0.containerID = id; $0.cmd = ["/bin/sh", "-c", "head -c 10000 /dev/zero"]; $0.timeout = 10 })
      }
      #expect(large?.code == .resourceExhausted)
      #expect(large?.message.hasPrefix("grpc: trying to send message larger than max (100") == true, "\(String(describing: large))")
      let small = try await cri.runtime.execSync(.with { $0.containerID = id; $0.cmd = ["echo", "fits"]; $0.timeout = 10 })
      #expect(String(decoding: small.stdout, as: UTF8.self) == "fits\n")
    }
  }

  /// stats_collection_period (and the later collection_period): stats are
  /// read once per period and served as read in between; 0 reads each time.
  @Test(arguments: [("stats_collection_period = 3600", true), ("collection_period = 3600", true), ("stats_collection_period = 0", false)])
  func statsAreReadOncePerPeriod(key: String, cached: Bool) async throws {
    try await kit.withPod(extraConfig: "[crio.stats]\n\(key)\n") { cri, _, pod in
      let id = try await kit.create(cri, pod: pod, ContainerTests.container("stats", "sleep 1000"))
      try await kit.start(cri, id)
      let first = try await cri.runtime.containerStats(.with { $0.containerID = id }).stats
      let listed = try await cri.runtime.listContainerStats(.init()).stats.first { $0.attributes.id == id }
      let podFirst = try await cri.runtime.podSandboxStats(.with { $0.podSandboxID = pod }).stats
      let podSecond = try await cri.runtime.podSandboxStats(.with { $0.podSandboxID = pod }).stats
      #expect(first.cpu.timestamp > 0)
      #expect((listed?.cpu.timestamp == first.cpu.timestamp) == cached)
      #expect((podFirst.linux.cpu.timestamp == podSecond.linux.cpu.timestamp) == cached)
    }
  }

  /// log_dir: a pod kubelet gives no log directory logs under
  /// `log_dir/<pod ID>`, a container with no log path to `<container ID>.log`
  /// there, as CRI-O; the directory goes with the pod.
  @Test func podsWithoutALogDirectoryLogUnderLogDir() async throws {
    try await RegistryServer.withRunning { registry in
      try await TestImages.pushBusybox(to: registry)
      try await withImageDaemon(registry: registry) { cri, daemon in
        _ = try await cri.pull("\(registry.host)/busybox:1")
        let pod = try await PodSandboxTests.run(cri, PodSandboxTests.podConfig())
        var config = ContainerTests.container("nolog", "echo to the default log")
        config.logPath = ""
        let run = try await ContainerBehaviourTests().runToEnd(cri, pod: pod, config)
        let directory = daemon.directory + "/pods/" + pod
        #expect(run.status.logPath == directory + "/" + run.status.id + ".log")
        #expect(run.lines == ["to the default log"])
        _ = try await cri.runtime.stopPodSandbox(.with { $0.podSandboxID = pod })
        _ = try await cri.runtime.removePodSandbox(.with { $0.podSandboxID = pod })
        #expect(Files.kind(of: directory) == .missing)
      }
    }
  }

  /// storage_option's overlay.mountopt reaches every container's root mount.
  @Test func storageMountOptionsReachTheRootMount() async throws {
    try await kit.withPod(extraConfig: "[crio]\nstorage_option = [\"overlay.mountopt=nodev\"]\n") { cri, _, pod in
      let id = try await kit.create(cri, pod: pod, ContainerTests.container("mountopt", "sleep 1000"))
      try await kit.start(cri, id)
      let answer = try await cri.runtime.execSync(.with { $0.containerID = id; $0.cmd = ["cat", "/proc/mounts"]; $0.timeout = 10 })
      let root = String(decoding: answer.stdout, as: UTF8.self).split(separator: "\n").first { $0.hasPrefix("overlay / overlay ") }
      let options = root?.split(separator: " ").dropFirst(3).first?.split(separator: ",") ?? []
      #expect(options.contains("nodev"), "\(String(describing: root))")
    }
  }

  /// monitor_cgroup: conmon runs in `crio-conmon-<id>` of the pod's cgroup
  /// (cgroupfs, "" meaning "pod", as CRI-O), and the cgroup goes with the container.
  @Test(conmonOnly) func conmonRunsInItsMonitorCgroup() async throws {
    try await kit.withPod(extraConfig: "[crio.runtime]\ncgroup_manager = \"cgroupfs\"\n") { cri, _, pod in
      let id = try await kit.create(cri, pod: pod, ContainerTests.container("monitored", "sleep 1000"))
      try await kit.start(cri, id)
      let conmon = try #require(Self.conmon(of: id))
      let cgroups = try Files.read("/proc/\(conmon.pid)/cgroup").split(separator: "\n")
      #expect(!cgroups.isEmpty && cgroups.allSatisfy { $0.hasSuffix("/crio-conmon-\(id)") }, "\(cgroups)")
      let hierarchies = cgroups.compactMap { line -> String? in
        let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        return fields.count == 3 ? String(fields[2]) : nil
      }
      #expect(Set(hierarchies).count == 1, "one cgroup path in every hierarchy: \(hierarchies)")
      _ = try await cri.runtime.removeContainer(.with { $0.containerID = id })
      let path = try #require(hierarchies.first)
      let mounts = ["/sys/fs/cgroup", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/pids", "/sys/fs/cgroup/unified"]
      #expect(await eventually { mounts.allSatisfy { Files.kind(of: $0 + path) == .missing } }, "the conmon cgroup is removed")
    }
  }

  /// A host-network pod cannot take the default net.* sysctls: as CRI-O,
  /// they are skipped for it instead of failing it.
  @Test func defaultSysctlsAPodCannotTakeAreSkipped() async throws {
    let config = "[crio.runtime]\ndefault_sysctls = [\"net.ipv4.ip_unprivileged_port_start=0\", \"kernel.msgmax=4096\"]\n"
    try await kit.withPod(extraConfig: config, pod: { $0.linux.securityContext.namespaceOptions.network = .node }) { cri, _, pod in
      let id = try await kit.create(cri, pod: pod, ContainerTests.container("hostnet", "sleep 1000"))
      try await kit.start(cri, id)
      let answer = try await cri.runtime.execSync(.with { $0.containerID = id; $0.cmd = ["cat", "/proc/sys/kernel/msgmax"]; $0.timeout = 10 })
      #expect(String(decoding: answer.stdout, as: UTF8.self) == "4096\n")
    }
  }

  /// minimum_mappable_uid/gid: a pod may not map host IDs below them.
  @Test func podsMayNotMapHostIDsBelowTheMinimum() async throws {
    try await withCRI(config: "[crio.runtime]\nminimum_mappable_uid = 100000\nminimum_mappable_gid = 100000\n") { cri, _ in
      var pod = PodSandboxTests.podConfig()
      pod.linux.securityContext.namespaceOptions.usernsOptions = .with {
        $0.mode = .pod
        $0.uids = [.with { $0.containerID = 0; $0.hostID = 65536; $0.length = 65536 }]
        $0.gids = [.with { $0.containerID = 0; $0.hostID = 200000; $0.length = 65536 }]
      }
      let error = await rpcError { _ = try await PodSandboxTests.run(cri, pod) }
      #expect(error?.code == .invalidArgument)
      #expect(error?.message == "userns_options.uids maps host uid 65536, below minimum_mappable_uid 100000 of this node")
      let pods = try await cri.runtime.listPodSandbox(.init()).items
      #expect(pods.isEmpty)
    }
  }

  /// log_to_journald needs journald: where there is none, start-up stops and says so.
  @Test func logToJournaldWithoutJournaldStopsStartUp() async throws {
    let journald = Files.kind(of: "/run/systemd/journal/socket") != .missing
    let daemon = try DaemonProcess(config: "[crio.runtime]\nlog_to_journald = true\n")
    if RuntimeType.forced == .pod {
      // The pod monitor does not log to journald, and says so.
      #expect(await daemon.waitForExit() == 1)
      #expect(daemon.log().contains("log_to_journald = true is not supported with the pod monitor"), "\(daemon.log())")
    } else if journald {
      await #expect(throws: Never.self) { try await daemon.waitUntilReady() }
    } else {
      #expect(await daemon.waitForExit() == 1)
      #expect(daemon.log().contains("log_to_journald = true, but this host has no journald socket"), "\(daemon.log())")
    }
    await daemon.cleanUp()
  }

  /// conmon's command line and environment, found by its `-c <id>`.
  static func conmon(of id: String) -> (pid: String, arguments: [String], environment: [String])? {
    for entry in (try? Files.list("/proc")) ?? [] where entry.allSatisfy(\.isNumber) {
      guard let bytes = try? Files.readBytes("/proc/\(entry)/cmdline") else { continue }
      let arguments = bytes.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
      guard arguments.first?.hasSuffix("conmon") == true, let flag = arguments.firstIndex(of: "-c"),
        arguments.indices.contains(flag + 1), arguments[flag + 1] == id
      else { continue }
      let environment = ((try? Files.readBytes("/proc/\(entry)/environ")) ?? []).split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
      return (entry, arguments, environment)
    }
    return nil
  }
}
