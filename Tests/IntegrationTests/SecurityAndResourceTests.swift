#if canImport(Glibc)
import Glibc
#endif
import CRIAPI
import CRIClient
import GRPCCore
import Support
import TestFixtures
import Testing

/// The security context and resources kubelet sends, read back from inside
/// the container (ExecSync and its own output) and from the host's cgroups.
@Suite struct SecurityAndResourceTests {
  let kit = ContainerTests()
  let behaviour = ContainerBehaviourTests()

  /// A field of /proc/self/status as the container sees it.
  static func statusField(_ lines: [String], _ name: String) -> String? {
    lines.first { $0.hasPrefix(name + ":") }.map { String($0.dropFirst(name.count + 1)).trimmingWhitespace }
  }

  static func rootContainer(_ name: String, _ script: String) -> Runtime_V1_ContainerConfig {
    var config = ContainerTests.container(name, script)
    config.linux.securityContext.runAsUser = .with { $0.value = 0 }
    return config
  }

  @Test func capabilitiesFollowDefaultsAddDropAndPrivileged() async throws {
    try await kit.withPod(pod: { $0.linux.securityContext.privileged = true }) { cri, daemon, pod in
      let defaults = try await behaviour.runToEnd(cri, pod: pod, Self.rootContainer("caps", "cat /proc/self/status"))
      // CRI-O's nine defaults: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE.
      #expect(Self.statusField(defaults.lines, "CapEff") == "00000000000005fb", "\(defaults.lines)")
      #expect(Self.statusField(defaults.lines, "CapBnd") == "00000000000005fb")

      var changed = Self.rootContainer("caps-changed", "cat /proc/self/status")
      changed.linux.securityContext.capabilities.addCapabilities = ["NET_ADMIN"]
      changed.linux.securityContext.capabilities.dropCapabilities = ["CAP_KILL"]
      #expect(Self.statusField(try await behaviour.runToEnd(cri, pod: pod, changed).lines, "CapEff") == "00000000000015db")

      // An ambient capability stays with a non-root user (uid 1000 here).
      var ambient = ContainerTests.container("caps-ambient", "cat /proc/self/status")
      ambient.linux.securityContext.capabilities.addAmbientCapabilities = ["NET_BIND_SERVICE"]
      let ambientLines = try await behaviour.runToEnd(cri, pod: pod, ambient).lines
      #expect(Self.statusField(ambientLines, "CapEff") == "0000000000000400", "\(ambientLines)")
      #expect(Self.statusField(ambientLines, "CapAmb") == "0000000000000400")

      // Privileged and "ALL" mean the daemon's own bounding set, whatever the host lacks.
      let daemonBounding = Self.statusField(try Files.read("/proc/\(daemon.pid)/status").split(separator: "\n").map(String.init), "CapBnd")
      var all = Self.rootContainer("caps-all", "cat /proc/self/status")
      all.linux.securityContext.capabilities.addCapabilities = ["ALL"]
      #expect(Self.statusField(try await behaviour.runToEnd(cri, pod: pod, all).lines, "CapEff") == daemonBounding)
      var privileged = Self.rootContainer("privileged", "cat /proc/self/status; ls /dev | wc -l 2>/dev/null; echo x > /sys/kernel/x 2>&1")
      privileged.linux.securityContext.privileged = true
      let run = try await behaviour.runToEnd(cri, pod: pod, privileged)
      #expect(Self.statusField(run.lines, "CapEff") == daemonBounding)
      #expect(Self.statusField(run.lines, "Seccomp") == "0", "no seccomp filter for privileged containers")
    }
  }

  @Test func requestedDevicesAppearWithTheirPermissions() async throws {
    try await kit.withPod { cri, _, pod in
      // /dev/kmsg (1:11) is not among runc's default device rules, so its
      // read-only rule is the only one that applies.
      var config = Self.rootContainer("devices", "ls -l /dev/crio-null /dev/crio-kmsg; echo ok > /dev/crio-null && echo WROTE-NULL; (echo x > /dev/crio-kmsg) 2>/dev/null && echo WROTE-KMSG || echo KMSG-DENIED")
      config.devices = [
        .with { $0.hostPath = "/dev/null"; $0.containerPath = "/dev/crio-null"; $0.permissions = "rwm" },
        .with { $0.hostPath = "/dev/kmsg"; $0.containerPath = "/dev/crio-kmsg"; $0.permissions = "r" },
      ]
      let lines = try await behaviour.runToEnd(cri, pod: pod, config).lines
      #expect(lines.contains { $0.hasPrefix("c") && $0.contains("1,   3") && $0.hasSuffix("/dev/crio-null") }, "\(lines)")
      #expect(lines.contains("WROTE-NULL"))
      #expect(lines.contains("KMSG-DENIED"), "read-only in the device cgroup: \(lines)")
      var missing = ContainerTests.container("no-device", "true")
      missing.devices = [.with { $0.hostPath = "/dev/nonexistent"; $0.containerPath = "/dev/x"; $0.permissions = "rw" }]
      #expect(await rpcCode { try await kit.create(cri, pod: pod, missing) } == .invalidArgument)
    }
  }

  static let fuseAnnotation = ["io.kubernetes.cri-o.Devices": "/dev/fuse:/dev/crio-fuse:rw"]

  @Test func theDevicesAnnotationNeedsAllowedAnnotationsAndAllowedDevices() async throws {
    let config = """
      [crio.runtime]
      allowed_devices = ["/dev/fuse"]
      [crio.runtime.runtimes.runc]
      allowed_annotations = ["io.kubernetes.cri-o.Devices"]

      """
    try await kit.withPod(extraConfig: config, pod: { $0.annotations = Self.fuseAnnotation }) { cri, _, pod in
      let lines = try await behaviour.runToEnd(cri, pod: pod, Self.rootContainer("fuse", "ls -l /dev/crio-fuse")).lines
      #expect(lines.contains { $0.hasPrefix("c") && $0.contains("10, 229") && $0.hasSuffix("/dev/crio-fuse") }, "\(lines)")
      // A device outside allowed_devices is refused, naming it.
      var other = PodSandboxTests.podConfig(name: "zero")
      other.annotations = ["devices.crio.io": "/dev/zero"]
      let otherPod = try await PodSandboxTests.run(cri, other)
      #expect(await rpcCode { try await kit.create(cri, pod: otherPod, Self.rootContainer("zero", "true")) } == .invalidArgument)
    }
  }

  @Test func theDevicesAnnotationIsInertUnlessAllowed() async throws {
    try await kit.withPod(pod: { $0.annotations = Self.fuseAnnotation }) { cri, _, pod in
      let lines = try await behaviour.runToEnd(cri, pod: pod, Self.rootContainer("no-fuse", "ls /dev/crio-fuse 2>&1; echo done")).lines
      #expect(lines.contains { $0.contains("No such file") }, "\(lines)")
    }
  }

  @Test func aPrivilegedContainerNeedsAPrivilegedPod() async throws {
    try await kit.withPod { cri, _, pod in
      var privileged = ContainerTests.container("privileged", "true")
      privileged.linux.securityContext.privileged = true
      #expect(await rpcCode { try await kit.create(cri, pod: pod, privileged) } == .invalidArgument)
    }
  }

  @Test func seccompProfilesFilterSyscalls() async throws {
    let profiles = try Files.makeTemporaryDirectory(prefix: "crio-seccomp")
    defer { Files.removeTree(profiles) }
    try Files.write(profiles + "/no-mkdir.json", """
      {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}
      """)
    try Files.write(profiles + "/broken.json", "{ nope")
    try await kit.withPod { cri, _, pod in
      let probe = "unshare -U true && echo UNSHARE-OK || echo UNSHARE-DENIED; mkdir /tmp/made && echo MKDIR-OK || echo MKDIR-DENIED; cat /proc/self/status"
      func run(_ name: String, _ profile: Runtime_V1_SecurityProfile?) async throws -> [String] {
        var config = ContainerTests.container(name, probe)
        if let profile { config.linux.securityContext.seccomp = profile }
        return try await behaviour.runToEnd(cri, pod: pod, config).lines
      }
      // Unconfined: user namespaces need no capability, so unshare works.
      let unconfined = try await run("unconfined", .with { $0.profileType = .unconfined })
      #expect(unconfined.contains("UNSHARE-OK") && unconfined.contains("MKDIR-OK"), "\(unconfined)")
      #expect(Self.statusField(unconfined, "Seccomp") == "0")
      // The runtime default blocks unshare without CAP_SYS_ADMIN; so does an empty request.
      for (name, profile) in [("default", Runtime_V1_SecurityProfile.with { $0.profileType = .runtimeDefault }), ("empty", nil)] {
        let lines = try await run(name, profile)
        #expect(lines.contains("UNSHARE-DENIED") && lines.contains("MKDIR-OK"), "\(name): \(lines)")
        #expect(Self.statusField(lines, "Seccomp") == "2", "a filter is installed")
      }
      // A localhost profile from a file.
      let local = try await run("localhost", .with { $0.profileType = .localhost; $0.localhostRef = profiles + "/no-mkdir.json" })
      #expect(local.contains("UNSHARE-OK") && local.contains("MKDIR-DENIED"), "\(local)")
      // Missing and malformed files are clear errors.
      for (name, file) in [("missing", "/nonexistent.json"), ("broken", "/broken.json")] {
        var config = ContainerTests.container(name, "true")
        config.linux.securityContext.seccomp = .with { $0.profileType = .localhost; $0.localhostRef = profiles + file }
        do {
          _ = try await kit.create(cri, pod: pod, config)
          Issue.record("\(name) profile accepted")
        } catch let error as RPCError {
          #expect(error.code == .invalidArgument)
          #expect(error.message.contains(file), "\(error.message)")
        }
      }
    }
  }

  @Test func anEmptySeccompRequestCanMeanUnconfined() async throws {
    try await kit.withPod(extraConfig: "[crio.runtime]\nseccomp_use_default_when_empty = false\n") { cri, _, pod in
      let lines = try await behaviour.runToEnd(cri, pod: pod, ContainerTests.container("empty", "cat /proc/self/status")).lines
      #expect(Self.statusField(lines, "Seccomp") == "0", "\(lines)")
    }
  }

  @Test func readOnlyRootMaskedPathsAndNoNewPrivileges() async throws {
    try await kit.withPod { cri, _, pod in
      var config = Self.rootContainer("locked", "(echo x > /probe) 2>/dev/null && echo ROOT-RW || echo ROOT-RO; cat /proc/self/status; cat /proc/mounts")
      config.linux.securityContext.readonlyRootfs = true
      config.linux.securityContext.noNewPrivs = true
      let lines = try await behaviour.runToEnd(cri, pod: pod, config).lines
      #expect(lines.contains("ROOT-RO"))
      #expect(Self.statusField(lines, "NoNewPrivs") == "1")
      let mounts = lines.filter { $0.contains(" ") && !$0.contains(":") }
      // /proc/keys is in CRI-O's masked list and exists on every kernel (kcore may not).
      #expect(mounts.contains { $0.contains(" /proc/keys ") }, "masked by a bind of /dev/null: \(mounts)")
      #expect(mounts.contains { $0.contains(" /proc/sys ") && $0.contains(" ro,") }, "read-only /proc/sys")
    }
  }

  @Test func resourcesAreAppliedUpdatedAndOOMKillsReported() async throws {
    try await kit.withPod { cri, _, pod in
      var config = ContainerTests.container("limited", "trap 'exit 0' QUIT; sleep 1000 & wait")
      config.linux.resources = .with {
        $0.memoryLimitInBytes = 64 << 20
        $0.cpuShares = 512
        $0.cpuPeriod = 100_000
        $0.cpuQuota = 50_000
      }
      let id = try await kit.create(cri, pod: pod, config)
      try await kit.start(cri, id)
      let v2 = Files.kind(of: "/sys/fs/cgroup/cgroup.controllers") == .file
      let status = try await cri.runtime.containerStatus(.with { $0.containerID = id; $0.verbose = true })
      let cgroup = "/crio/crio-" + id
      func read(_ controller: String, _ file: String) -> String {
        let path = v2 ? "/sys/fs/cgroup\(cgroup)/\(file)" : "/sys/fs/cgroup/\(controller)\(cgroup)/\(file)"
        return ((try? Files.read(path)) ?? "").trimmingWhitespace
      }
      if v2 {
        #expect(read("memory", "memory.max") == "\(64 << 20)")
        #expect(read("cpu", "cpu.max") == "50000 100000")
      } else {
        #expect(read("memory", "memory.limit_in_bytes") == "\(64 << 20)")
        #expect(read("cpu", "cpu.shares") == "512")
        #expect(read("cpu", "cpu.cfs_quota_us") == "50000")
      }
      #expect(status.status.resources.linux.memoryLimitInBytes == 64 << 20)

      _ = try await cri.runtime.updateContainerResources(.with {
        $0.containerID = id
        $0.linux = .with { $0.memoryLimitInBytes = 128 << 20; $0.cpuShares = 256 }
      })
      #expect(read("memory", v2 ? "memory.max" : "memory.limit_in_bytes") == "\(128 << 20)")
      #expect(try await kit.status(cri, id).resources.linux.memoryLimitInBytes == 128 << 20)
      #expect(await rpcCode { try await cri.runtime.updateContainerResources(.with { $0.containerID = "feedface"; $0.linux.cpuShares = 2 }) } == .notFound)

      // A container that needs more than its limit is OOM-killed and says so.
      var hungry = ContainerTests.container("hungry", "dd if=/dev/zero of=/dev/null bs=64M count=1")
      hungry.linux.resources = .with { $0.memoryLimitInBytes = 16 << 20; $0.memorySwapLimitInBytes = 16 << 20 }
      let hungryID = try await kit.create(cri, pod: pod, hungry)
      try await kit.start(cri, hungryID)
      let ended = try await kit.waitUntilExited(cri, hungryID)
      #expect(ended.exitCode == 137)
      #expect(ended.reason == "OOMKilled")
    }
  }

  @Test func statsReportCPUMemoryWritableLayerAndProcesses() async throws {
    try await kit.withPod { cri, _, pod in
      let id = try await kit.create(cri, pod: pod, ContainerTests.container(
        "busy", "trap 'exit 0' QUIT; dd if=/dev/zero of=/tmp/blob bs=1M count=4 2>/dev/null; i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; sleep 1000 & wait"))
      try await kit.start(cri, id)
      // Wait until the file is written and the loop is done (the machine may be slow).
      var first = try await cri.runtime.containerStats(.with { $0.containerID = id }).stats
      for _ in 0..<300 {
        let pods = try await cri.runtime.podSandboxStats(.with { $0.podSandboxID = pod }).stats
        if first.writableLayer.usedBytes.value >= 4 << 20, pods.linux.process.processCount.value >= 2 { break }
        try await Task.sleep(for: .milliseconds(100))
        first = try await cri.runtime.containerStats(.with { $0.containerID = id }).stats
      }
      #expect(first.attributes.id == id && first.attributes.metadata.name == "busy")
      #expect(first.cpu.usageCoreNanoSeconds.value > 0)
      #expect(first.memory.workingSetBytes.value > 0 && first.memory.usageBytes.value >= first.memory.workingSetBytes.value)
      #expect(first.writableLayer.usedBytes.value >= 4 << 20, "the 4 MiB file is in the writable layer")
      #expect(first.writableLayer.inodesUsed.value >= 1)
      try await Task.sleep(for: .milliseconds(200))
      let second = try await cri.runtime.containerStats(.with { $0.containerID = id }).stats
      #expect(second.cpu.hasUsageNanoCores, "a rate once there are two readings")

      let listed = try await cri.runtime.listContainerStats(.with { $0.filter.podSandboxID = pod }).stats
      #expect(listed.map(\.attributes.id) == [id])
      #expect(try await cri.runtime.listContainerStats(.with { $0.filter.labelSelector = ["container": "nope"] }).stats.isEmpty)

      let podStats = try await cri.runtime.podSandboxStats(.with { $0.podSandboxID = pod }).stats
      #expect(podStats.attributes.id == pod)
      #expect(podStats.linux.containers.map(\.attributes.id) == [id])
      #expect(podStats.linux.memory.workingSetBytes.value > 0)
      #expect(podStats.linux.process.processCount.value >= 2, "sh and sleep")
      #expect(podStats.linux.hasNetwork)
      #expect(try await cri.runtime.listPodSandboxStats(.init()).stats.map(\.attributes.id) == [pod])
      // The cAdvisor-style metrics kubelet can take from the runtime.
      let descriptors = try await cri.runtime.listMetricDescriptors(.init()).descriptors
      #expect(descriptors.contains { $0.name == "container_memory_working_set_bytes" && $0.labelKeys == ["id", "image", "namespace", "pod", "container"] })
      let metrics = try await cri.runtime.listPodSandboxMetrics(.init()).podMetrics
      let containerMetrics = try #require(metrics.first { $0.podSandboxID == pod }?.containerMetrics.first)
      #expect(containerMetrics.containerID == id)
      let workingSet = containerMetrics.metrics.first { $0.name == "container_memory_working_set_bytes" }
      #expect((workingSet?.value.value ?? 0) > 0 && workingSet?.metricType == .gauge)
      #expect(workingSet?.labelValues.last == "busy")
      _ = try await cri.runtime.updatePodSandboxResources(.with { $0.podSandboxID = pod })
      #expect(await rpcCode { try await cri.runtime.updatePodSandboxResources(.with { $0.podSandboxID = "feedface" }) } == .notFound)

      #expect(await rpcCode { try await cri.runtime.containerStats(.with { $0.containerID = "feedface" }) } == .notFound)
      #expect(await rpcCode { try await cri.runtime.podSandboxStats(.with { $0.podSandboxID = "feedface" }) } == .notFound)
    }
  }
}

extension String {
  var trimmingWhitespace: String {
    var text = Substring(self)
    while let first = text.first, first.isWhitespace { text.removeFirst() }
    while let last = text.last, last.isWhitespace { text.removeLast() }
    return String(text)
  }
}
