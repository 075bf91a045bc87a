#if canImport(Glibc)
import Glibc
#endif
import CRIAPI
import CRIClient
import GRPCCore
import Support
import TestFixtures
import Testing

/// What kubelet relies on beyond the basic lifecycle: users and groups,
/// read-only mounts, shared PID namespaces, log size limits and reopening,
/// stop timeouts and retries after a deadline, all with real runc and conmon.
@Suite struct ContainerBehaviourTests {
  let kit = ContainerTests()

  /// Runs a container to its end and returns its log's lines (without the
  /// CRI prefix) and its status.
  func runToEnd(
    _ cri: CRIConnection, pod: String, _ config: Runtime_V1_ContainerConfig
  ) async throws -> (lines: [String], status: Runtime_V1_ContainerStatus) {
    let id = try await kit.create(cri, pod: pod, config)
    try await kit.start(cri, id)
    let status = try await kit.waitUntilExited(cri, id)
    let log = (try? Files.read(status.logPath)) ?? ""
    // "<time> <stream> <tag> <text>": a line conmon or the pod monitor read
    // in two pieces (a read ends where the pipe's data ends) is a "P"
    // record, then the rest; joined as kubelet joins them.
    var lines: [String] = []
    var partial = ""
    for record in log.split(separator: "\n") {
      let fields = record.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
      let text = fields.count > 3 ? String(fields[3]) : ""
      if fields.count > 2, fields[2] == "P" {
        partial += text
      } else {
        lines.append(partial + text)
        partial = ""
      }
    }
    if !partial.isEmpty { lines.append(partial) }
    return (lines, status)
  }

  /// `read_only = true`, as a node operator sets it: the container cannot
  /// write its root; /tmp, /var/tmp and /run are tmpfs seeded from the image.
  @Test func readOnlyConfigMakesEveryRootReadOnly() async throws {
    let kit = ContainerTests()
    try await kit.withPod(extraConfig: "[crio.runtime]\nread_only = true\n") { cri, _, pod in
      let id = try await kit.create(cri, pod: pod, ContainerTests.container("ro", "sleep 1000"))
      try await kit.start(cri, id)
      func run(_ script: String) async throws -> (code: Int32, stderr: String) {
        let answer = try await cri.runtime.execSync(.with { $0.containerID = id; $0.cmd = ["/bin/sh", "-c", script]; $0.timeout = 10 })
        return (answer.exitCode, String(decoding: answer.stderr, as: UTF8.self))
      }
      let root = try await run("echo x > /written")
      #expect(root.code != 0 && root.stderr.contains("Read-only file system"), "\(root)")
      // The image's user is 1000: /tmp and /var/tmp are everyone's (1777), /run root's (0755).
      for path in ["/tmp/a", "/var/tmp/b"] {
        let written = try await run("echo x > \(path)")
        #expect(written.code == 0, "\(path): \(written.stderr)")
      }
      #expect(try await run("grep -q ' /run tmpfs ' /proc/mounts && grep -q ' / overlay ro' /proc/mounts").code == 0)
    }
  }

  /// The daemon does its background work at a lower priority; nothing it
  /// starts may inherit that: containers, exec'd commands and the pod's
  /// init run at the daemon's own niceness.
  @Test func containersAndExecsRunAtTheDaemonsPriority() async throws {
    let kit = ContainerTests()
    try await kit.withPod(pod: { $0.linux.securityContext.namespaceOptions.pid = .pod }) { cri, daemon, pod in
      let daemonNice = try #require(Self.niceness(of: "/proc/\(daemon.pid)/stat"))
      let id = try await kit.create(cri, pod: pod, ContainerTests.container("nice", "sleep 1000"))
      try await kit.start(cri, id)
      // Every process of the pod's PID namespace: its init, the container's
      // process, and the exec'd shell reading them.
      let answer = try await cri.runtime.execSync(.with {
        $0.containerID = id
        $0.cmd = ["/bin/sh", "-c", "for stat in /proc/[0-9]*/stat; do cat $stat; echo; done"]
        $0.timeout = 10
      })
      let stats = String(decoding: answer.stdout, as: UTF8.self).split(separator: "\n").map(String.init)
      let commands = stats.compactMap { line in line.firstRange(of: "(").map { String(line[$0.upperBound...].prefix { $0 != ")" }) } }
      #expect(commands.contains("pause") && commands.contains("sleep") && commands.contains("sh"), "\(commands)")
      for line in stats {
        #expect(Self.niceness(ofStat: line) == daemonNice, "\(line)")
      }
    }
  }

  /// Field 19 of /proc/<pid>/stat, after the command name's closing parenthesis.
  static func niceness(ofStat stat: String) -> Int? {
    guard let close = stat.lastIndex(of: ")") else { return nil }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    return fields.count > 16 ? Int(fields[16]) : nil
  }

  static func niceness(of path: String) -> Int? {
    (try? Files.read(path)).flatMap(niceness(ofStat:))
  }

  @Test func usersAndGroupsResolveByIDAndByNameInTheImage() async throws {
    try await kit.withPod { cri, _, pod in
      // The image's own user, 1000:1000, with a supplemental group added.
      var byImage = ContainerTests.container("image-user", "id")
      byImage.linux.securityContext.supplementalGroups = [4321]
      let image = try await runToEnd(cri, pod: pod, byImage)
      #expect(image.lines.first?.hasPrefix("uid=1000(app) gid=1000(app) groups=") == true, "\(image.lines)")
      #expect(image.lines.first?.contains("4321") == true)

      // A user name resolved in the image's /etc/passwd, with its group.
      var byName = ContainerTests.container("by-name", "id -u; id -g")
      byName.linux.securityContext.runAsUsername = "nobody"
      #expect(try await runToEnd(cri, pod: pod, byName).lines == ["65534", "65534"])

      // A numeric uid with an explicit group.
      var byID = ContainerTests.container("by-id", "id -u; id -g")
      byID.linux.securityContext.runAsUser = .with { $0.value = 0 }
      byID.linux.securityContext.runAsGroup = .with { $0.value = 1000 }
      #expect(try await runToEnd(cri, pod: pod, byID).lines == ["0", "1000"])

      // A name the image does not know is a clear error.
      var unknown = ContainerTests.container("unknown-user", "id")
      unknown.linux.securityContext.runAsUsername = "nosuchuser"
      #expect(await rpcCode { try await kit.create(cri, pod: pod, unknown) } == .invalidArgument)
    }
  }

  @Test func readOnlyAndWritableMountsBehaveAsAsked() async throws {
    let host = try Files.makeTemporaryDirectory(prefix: "crio-mnt")
    defer { Files.removeTree(host) }
    try Files.write(host + "/given.txt", "from the host\n")
    try await kit.withPod { cri, daemon, pod in
      var config = ContainerTests.container(
        "mounts",
        "cat /ro/given.txt; (echo x > /ro/new) 2>/dev/null && echo RO-WRITTEN || echo RO-DENIED; echo y > /rw/made && echo RW-WRITTEN")
      config.linux.securityContext.runAsUser = .with { $0.value = 0 }
      config.mounts = [
        .with { $0.hostPath = host; $0.containerPath = "/ro"; $0.readonly = true },
        .with { $0.hostPath = host; $0.containerPath = "/rw" },
      ]
      let run = try await runToEnd(cri, pod: pod, config)
      #expect(run.lines == ["from the host", "RO-DENIED", "RW-WRITTEN"])
      #expect(try Files.read(host + "/made") == "y\n")
      #expect(Files.kind(of: host + "/new") == .missing)
      let mounts = run.status.mounts.map { "\($0.containerPath):\($0.readonly)" }
      #expect(mounts.contains("/ro:true") && mounts.contains("/rw:false"), "\(mounts)")
      #expect(daemon.mounts().allSatisfy { !$0.contains(host) })
    }
  }

  @Test(arguments: RuntimeType.allCases)
  func containersOfAPodWithSharedPIDSeeEachOther(_ runtime: RuntimeType) async throws {
    try await kit.withPod(runtime: runtime, pod: { $0.linux.securityContext.namespaceOptions.pid = .pod }) { cri, daemon, pod in
      var sleeper = ContainerTests.container("sleeper", "trap 'exit 0' QUIT; sleep 1000 & wait")
      sleeper.linux.securityContext.namespaceOptions.pid = .pod
      let sleeperID = try await kit.create(cri, pod: pod, sleeper)
      try await kit.start(cri, sleeperID)

      var looker = ContainerTests.container("looker", "cat /proc/1/comm; for p in /proc/[0-9]*; do cat $p/comm; done")
      looker.linux.securityContext.namespaceOptions.pid = .pod
      let shared = try await runToEnd(cri, pod: pod, looker)
      #expect(shared.lines.first == "pause", "PID 1 is the pod's init: \(shared.lines)")
      #expect(shared.lines.contains("sleep"), "the other container's process is visible: \(shared.lines)")

      // A container with its own PID namespace is its own PID 1 and sees nothing else.
      var alone = ContainerTests.container("alone", "cat /proc/1/comm; for p in /proc/[0-9]*; do cat $p/comm; done")
      alone.linux.securityContext.namespaceOptions.pid = .container
      let own = try await runToEnd(cri, pod: pod, alone)
      #expect(own.lines.first == "sh")
      #expect(!own.lines.contains("sleep"))

      // Stopping the pod ends the namespace's init with everything in it.
      #expect(daemon.processes().count >= 1)
      try await PodSandboxTests.stop(cri, pod)
      #expect(try await kit.status(cri, sleeperID).state == .containerExited)
      try await PodSandboxTests.remove(cri, pod)
      #expect(await eventually { daemon.processes().isEmpty }, "no init or conmon left: \(daemon.processes())")
    }
  }

  @Test(arguments: RuntimeType.allCases)
  func aProcessThatIgnoresItsStopSignalIsKilledAfterTheTimeout(_ runtime: RuntimeType) async throws {
    try await kit.withPod(runtime: runtime) { cri, _, pod in
      let id = try await kit.create(cri, pod: pod, ContainerTests.container("stubborn", "trap '' QUIT TERM; echo ignoring; while true; do sleep 1; done"))
      try await kit.start(cri, id)
      // Stop only once the trap is in place (the machine may be slow).
      let logPath = try await kit.status(cri, id).logPath
      #expect(await eventually(timeout: .seconds(60)) { ((try? Files.read(logPath)) ?? "").contains("ignoring") })
      let started = ContinuousClock.now
      _ = try await cri.runtime.stopContainer(.with { $0.containerID = id; $0.timeout = 2 })
      let took = ContinuousClock.now - started
      let status = try await kit.status(cri, id)
      #expect(status.state == .containerExited)
      #expect(status.exitCode == 137, "SIGKILL after the timeout")
      #expect(took >= .seconds(2), "the stop signal had its full timeout first (took \(took))")
    }
  }

  @Test(arguments: RuntimeType.allCases)
  func logsStayWithinLogSizeMaxAndAreReopenedAfterRotation(_ runtime: RuntimeType) async throws {
    try await kit.withPod(runtime: runtime, extraConfig: "[crio.runtime]\nlog_size_max = 16384\n") { cri, _, pod in
      // 2000 lines of ~60 bytes: far over the limit.
      let chatty = ContainerTests.container(
        "chatty", "i=0; while [ $i -lt 2000 ]; do echo \"line $i 0123456789012345678901234567890123456789\"; i=$((i+1)); done")
      let run = try await runToEnd(cri, pod: pod, chatty)
      let size = try Files.readBytes(run.status.logPath).count
      #expect(size <= 16384 + 200, "conmon keeps the log near log_size_max (\(size) bytes)")
      #expect(run.lines.last?.hasPrefix("line 1999 ") == true, "the newest lines are kept")

      // kubelet's rotation: rename the file, then ReopenContainerLog.
      let id = try await kit.create(
        cri, pod: pod, ContainerTests.container("ticker", "trap 'exit 0' QUIT; i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.1; done"))
      try await kit.start(cri, id)
      let logPath = try await kit.status(cri, id).logPath
      #expect(await eventually { ((try? Files.read(logPath)) ?? "").contains("tick 1") })
      #expect(rename(logPath, logPath + ".1") == 0)
      _ = try await cri.runtime.reopenContainerLog(.with { $0.containerID = id })
      #expect(await eventually { ((try? Files.read(logPath)) ?? "").contains("tick") }, "conmon writes to a new file")
      _ = try await cri.runtime.stopContainer(.with { $0.containerID = id; $0.timeout = 5 })
      // Only a running container's log can be reopened; unknown IDs are NotFound.
      #expect(await rpcCode { try await cri.runtime.reopenContainerLog(.with { $0.containerID = id }) } == .failedPrecondition)
      #expect(await rpcCode { try await cri.runtime.reopenContainerLog(.with { $0.containerID = "0123456789abcdef" }) } == .notFound)
    }
  }

  @Test func aRetryAfterTheDeadlineGetsTheSameSandboxAndContainer() async throws {
    try await kit.withPod { cri, _, pod in
      var options = CallOptions.defaults
      options.timeout = .milliseconds(1)
      let config = ContainerTests.container("retried", "sleep 1")
      // The first call runs out of time; the creation may or may not have
      // started. Either way the retry succeeds and there is one container.
      _ = try? await cri.runtime.createContainer(
        .with { $0.podSandboxID = pod; $0.config = config }, options: options)
      let id = try await kit.create(cri, pod: pod, config)
      let again = await rpcCode { try await kit.create(cri, pod: pod, config) }
      #expect(again == .alreadyExists, "once answered, the name stays reserved")
      let listed = try await cri.runtime.listContainers(.init()).containers.filter { $0.metadata.name == "retried" }
      #expect(listed.map(\.id) == [id])

      var sandbox = PodSandboxTests.podConfig(name: "retried-pod")
      sandbox.logDirectory = ""
      _ = try? await cri.runtime.runPodSandbox(.with { $0.config = sandbox }, options: options)
      let podID = try await PodSandboxTests.run(cri, sandbox)
      let pods = try await PodSandboxTests.list(cri).filter { $0.metadata.name == "retried-pod" }
      #expect(pods.map(\.id) == [podID])
    }
  }

  /// Where a cgroup is in the memory hierarchy (v1) or the unified one (v2).
  static func memoryCgroup(_ path: String) -> String {
    Files.kind(of: "/sys/fs/cgroup/cgroup.controllers") == .file ? "/sys/fs/cgroup" + path : "/sys/fs/cgroup/memory" + path
  }

  @Test(arguments: RuntimeType.allCases)
  func twentyPodsWithTheirContainersComeUpInParallelAndLeaveNothing(_ runtime: RuntimeType) async throws {
    let parent = "/crio-test-\(UInt32.random(in: 0...UInt32.max))"
    // Issue 14 asks for 20 pods x 5 containers under pod monitors.
    let names = runtime == .pod ? ["a", "b", "c", "d", "e"] : ["a", "b"]
    try await kit.withPod(runtime: runtime) { cri, daemon, firstPod in
      let ids = try await withThrowingTaskGroup(of: (String, [String]).self) { group in
        for index in 0..<20 {
          group.addTask {
            var pod = PodSandboxTests.podConfig(name: "parallel-\(index)")
            pod.metadata.uid = "uid-parallel-\(index)"
            pod.logDirectory = daemon.directory + "/logs/parallel-\(index)"
            pod.linux.cgroupParent = parent
            let podID = try await PodSandboxTests.run(cri, pod)
            var containers: [String] = []
            for name in names {
              var config = ContainerTests.container(name, "trap 'exit 0' QUIT; sleep 1000 & wait")
              config.metadata.name = name
              let id = try await cri.runtime.createContainer(.with {
                $0.podSandboxID = podID
                $0.config = config
                $0.sandboxConfig = pod
              }).containerID
              _ = try await cri.runtime.startContainer(.with { $0.containerID = id })
              containers.append(id)
            }
            return (podID, containers)
          }
        }
        return try await group.reduce(into: [(String, [String])]()) { $0.append($1) }
      }
      #expect(ids.count == 20)
      let running = try await cri.runtime.listContainers(.with { $0.filter.state.state = .containerRunning }).containers
      #expect(running.count == 20 * names.count)
      let someContainer = ids[0].1[0]
      #expect(Files.kind(of: Self.memoryCgroup(parent + "/crio-" + someContainer)) == .directory, "runc made the cgroup under the pod's parent")

      try await withThrowingTaskGroup(of: Void.self) { group in
        for (pod, _) in ids {
          group.addTask {
            try await PodSandboxTests.stop(cri, pod)
            try await PodSandboxTests.remove(cri, pod)
          }
        }
        try await group.waitForAll()
      }
      try await PodSandboxTests.remove(cri, firstPod)
      #expect(try await cri.runtime.listContainers(.init()).containers.isEmpty)
      #expect(try await PodSandboxTests.list(cri).isEmpty)
      #expect(daemon.mounts().isEmpty, "no overlay, shm or namespace mount left: \(daemon.mounts())")
      #expect(await eventually { daemon.processes().isEmpty }, "no conmon left: \(daemon.processes())")
      #expect(Files.kind(of: Self.memoryCgroup(parent)) == .missing, "the pod's cgroup is gone")
      #expect(((try? Files.list(daemon.directory + "/run/containers")) ?? []).isEmpty, "no bundle left")
      #expect(((try? Files.list(daemon.directory + "/root/containers")) ?? []).isEmpty, "no upper layer left")
      #expect(((try? Files.list(daemon.directory + "/ns/netns")) ?? []).isEmpty, "no pinned namespace left")
      #expect(((try? Files.list(daemon.directory + "/runc")) ?? []).isEmpty, "runc knows no container")
      #expect(((try? Files.list(daemon.directory + "/attach")) ?? []).isEmpty, "no attach link left")
    }
  }

  @Test func imageVolumesBecomeDirectoriesAndBadOnesAreRefused() async throws {
    try await RegistryServer.withRunning { registry in
      try await TestImages.pushBusybox(to: registry, repository: "volumes", volumes: ["/srv/cache/data", "/var/lib/app"])
      try await TestImages.pushBusybox(to: registry, repository: "escape", volumes: ["relative/../../etc/x"])
      try await withImageDaemon(registry: registry) { cri, daemon in
        _ = try await cri.pull("\(registry.host)/volumes:1")
        _ = try await cri.pull("\(registry.host)/escape:1")
        let pod = try await PodSandboxTests.run(cri, PodSandboxTests.podConfig())
        var good = ContainerTests.container("volumes", "ls -d /srv/cache/data /var/lib/app", registryImage: "\(registry.host)/volumes:1")
        good.logPath = ""
        let run = try await runToEnd(cri, pod: pod, good)
        #expect(run.status.exitCode == 0, "the declared volumes exist as directories")
        let bad = ContainerTests.container("escape", "true", registryImage: "\(registry.host)/escape:1")
        do {
          _ = try await kit.create(cri, pod: pod, bad)
          Issue.record("an image volume with \"..\" was accepted")
        } catch let error as RPCError {
          #expect(error.code == .invalidArgument)
          #expect(error.message.contains("relative/../../etc/x"), "\(error.message)")
        }
        #expect(!daemon.mounts().contains { $0.hasSuffix("/rootfs") && !$0.contains(run.status.id) }, "the refused container's root is unmounted")
      }
    }
  }
}
