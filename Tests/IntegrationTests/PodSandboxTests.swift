#if canImport(Glibc)
import Glibc
#endif
import CRIAPI
import CRIClient
import GRPCCore
import Support
import Testing

/// Pod sandboxes as `crictl runp/pods/inspectp/stopp/rmp` use them: pinned
/// namespaces, pod files, shm, name reservation, and what survives a restart.
@Suite struct PodSandboxTests {
  static func podConfig(name: String = "web", attempt: UInt32 = 0, labels: [String: String] = ["app": "web"]) -> Runtime_V1_PodSandboxConfig {
    var config = Runtime_V1_PodSandboxConfig()
    config.metadata.name = name
    config.metadata.namespace = "default"
    config.metadata.uid = "uid-\(name)"
    config.metadata.attempt = attempt
    config.hostname = name
    config.labels = labels
    config.annotations = ["note": "test"]
    config.dnsConfig.servers = ["10.96.0.10"]
    config.dnsConfig.searches = ["default.svc.cluster.local", "svc.cluster.local"]
    config.dnsConfig.options = ["ndots:5"]
    return config
  }

  static func run(_ cri: CRIConnection, _ config: Runtime_V1_PodSandboxConfig) async throws -> String {
    try await cri.runtime.runPodSandbox(Runtime_V1_RunPodSandboxRequest.with { $0.config = config }).podSandboxID
  }

  static func status(_ cri: CRIConnection, _ id: String) async throws -> Runtime_V1_PodSandboxStatusResponse {
    try await cri.runtime.podSandboxStatus(Runtime_V1_PodSandboxStatusRequest.with { $0.podSandboxID = id; $0.verbose = true })
  }

  static func list(_ cri: CRIConnection, _ filter: Runtime_V1_PodSandboxFilter? = nil) async throws -> [Runtime_V1_PodSandbox] {
    try await cri.runtime.listPodSandbox(Runtime_V1_ListPodSandboxRequest.with { if let filter { $0.filter = filter } }).items
  }

  static func stop(_ cri: CRIConnection, _ id: String) async throws {
    _ = try await cri.runtime.stopPodSandbox(Runtime_V1_StopPodSandboxRequest.with { $0.podSandboxID = id })
  }

  static func remove(_ cri: CRIConnection, _ id: String) async throws {
    _ = try await cri.runtime.removePodSandbox(Runtime_V1_RemovePodSandboxRequest.with { $0.podSandboxID = id })
  }

  @Test func runInspectStopAndRemoveAPod() async throws {
    try await withCRI { cri, daemon in
      var config = Self.podConfig()
      config.logDirectory = daemon.directory + "/pods/default_web_uid-web"
      config.linux.sysctls = ["net.ipv4.ip_unprivileged_port_start": "0"]
      let id = try await Self.run(cri, config)
      #expect(id.count == 64 && id.allSatisfy(\.isHexDigit))

      let response = try await Self.status(cri, String(id.prefix(8)))
      let status = response.status
      #expect(status.id == id, "a unique ID prefix finds the pod")
      #expect(status.state == .sandboxReady)
      #expect(status.metadata.name == "web" && status.metadata.namespace == "default")
      #expect(status.labels == ["app": "web"])
      #expect(status.annotations == ["note": "test"])
      #expect(status.runtimeHandler == "runc")
      #expect(status.createdAt > 0)
      let info = try #require(response.info["info"])
      #expect(info.contains(daemon.directory + "/ns/netns/" + id))

      // The pod's own namespaces, files and shm.
      let netns = daemon.directory + "/ns/netns/" + id
      let mounts = daemon.mounts()
      #expect(mounts.contains(netns))
      #expect(mounts.contains(daemon.directory + "/ns/utsns/" + id))
      #expect(mounts.contains(daemon.directory + "/ns/ipcns/" + id))
      let podDir = daemon.directory + "/run/pods/" + id
      #expect(mounts.contains(podDir + "/shm"))
      #expect(try Files.read(podDir + "/hostname") == "web\n")
      #expect(try Files.read(podDir + "/resolv.conf") == "search default.svc.cluster.local svc.cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n")
      #expect(try Files.read(podDir + "/hosts").contains("127.0.0.1\tlocalhost"))
      #expect(Files.kind(of: config.logDirectory) == .directory)
      let hostname = try await Processes.run("/usr/bin/nsenter", ["--uts=" + daemon.directory + "/ns/utsns/" + id, "/bin/hostname"])
      #expect(hostname.stdout == "web\n")
      let sysctl = try await Processes.run("/usr/bin/nsenter", ["--net=" + netns, "/bin/cat", "/proc/sys/net/ipv4/ip_unprivileged_port_start"])
      #expect(sysctl.stdout == "0\n", "the pod's sysctl is set in its network namespace")

      try await Self.stop(cri, id)
      #expect(try await Self.status(cri, id).status.state == .sandboxNotready)
      #expect(daemon.mounts().isEmpty, "stopping releases namespaces and shm: \(daemon.mounts())")
      try await Self.stop(cri, id)  // idempotent

      try await Self.remove(cri, id)
      #expect(try await Self.list(cri).isEmpty)
      #expect(Files.kind(of: podDir) == .missing)
      try await Self.remove(cri, id)  // idempotent
      let code = await rpcCode { try await Self.status(cri, id) }
      #expect(code == .notFound)
    }
  }

  @Test func aPodNameIsReservedUntilTheAttemptChanges() async throws {
    try await withCRI { cri, _ in
      let first = try await Self.run(cri, Self.podConfig())
      var changed = Self.podConfig()
      changed.labels["other"] = "config"
      let code = await rpcCode { try await Self.run(cri, changed) }
      #expect(code == .alreadyExists)
      let next = try await Self.run(cri, Self.podConfig(attempt: 1))
      #expect(next != first)
      #expect(try await Self.list(cri).count == 2)
    }
  }

  @Test func listFiltersByIDStateAndLabels() async throws {
    try await withCRI { cri, _ in
      let a = try await Self.run(cri, Self.podConfig(name: "a", labels: ["tier": "front"]))
      let b = try await Self.run(cri, Self.podConfig(name: "b", labels: ["tier": "back"]))
      try await Self.stop(cri, b)
      #expect(try await Self.list(cri).map(\.id) == [a, b], "oldest first")
      #expect(try await Self.list(cri, .with { $0.id = String(b.prefix(10)) }).map(\.id) == [b])
      #expect(try await Self.list(cri, .with { $0.state.state = .sandboxReady }).map(\.id) == [a])
      #expect(try await Self.list(cri, .with { $0.state.state = .sandboxNotready }).map(\.id) == [b])
      #expect(try await Self.list(cri, .with { $0.labelSelector = ["tier": "back"] }).map(\.id) == [b])
      #expect(try await Self.list(cri, .with { $0.labelSelector = ["tier": "none"] }).isEmpty)
    }
  }

  @Test func withoutAHostnameAPodIsNamedAfterItsID() async throws {
    try await withCRI { cri, _ in
      var config = Self.podConfig(name: String(repeating: "long-name-", count: 9))
      config.hostname = ""
      let id = try await Self.run(cri, config)
      let info = try await cri.runtime.podSandboxStatus(.with { $0.podSandboxID = id; $0.verbose = true }).info["info"] ?? ""
      #expect(info.contains("\"hostname\":\"\(id.prefix(12))\""), "a name over 64 bytes cannot be a hostname: \(info)")
    }
  }

  @Test func aHostNetworkPodPinsOnlyIPC() async throws {
    try await withCRI { cri, daemon in
      var config = Self.podConfig()
      config.linux.securityContext.namespaceOptions.network = .node
      let id = try await Self.run(cri, config)
      #expect(Files.kind(of: daemon.directory + "/ns/netns/" + id) == .missing)
      #expect(Files.kind(of: daemon.directory + "/ns/utsns/" + id) == .missing)
      #expect(daemon.mounts().contains(daemon.directory + "/ns/ipcns/" + id))
      let status = try await Self.status(cri, id)
      #expect(status.status.linux.namespaces.options.network == .node)
    }
  }

  @Test func badPodsAreRefusedAndLeaveNothing() async throws {
    try await withCRI { cri, daemon in
      var noMetadata = Self.podConfig()
      noMetadata.clearMetadata()
      var unsafeSysctl = Self.podConfig(name: "s1")
      unsafeSysctl.linux.sysctls = ["kernel.panic": "1"]
      var injection = Self.podConfig(name: "s2")
      injection.linux.sysctls = ["net.ipv4.ip_forward": "1+kernel.core_pattern=|/bin/evil"]
      var hostNetSysctl = Self.podConfig(name: "s3")
      hostNetSysctl.linux.securityContext.namespaceOptions.network = .node
      hostNetSysctl.linux.sysctls = ["net.ipv4.ip_forward": "1"]
      var badHostname = Self.podConfig(name: "h")
      badHostname.hostname = "bad\nhost"
      // A log directory that climbs out of where it seems to be.
      let outside = daemon.directory + "/evil-logdir-\(UInt32.random(in: 0...UInt32.max))"
      var climbing = Self.podConfig(name: "l")
      climbing.logDirectory = daemon.directory + "/logs/x/../../" + outside.split(separator: "/").last!
      var relative = Self.podConfig(name: "r")
      relative.logDirectory = "logs/pod"
      for config in [noMetadata, unsafeSysctl, injection, hostNetSysctl, badHostname, climbing, relative] {
        let code = await rpcCode { try await Self.run(cri, config) }
        #expect(code == .invalidArgument, "\(config.metadata.name)")
      }
      let handler = await rpcCode {
        try await cri.runtime.runPodSandbox(.with { $0.config = Self.podConfig(name: "x"); $0.runtimeHandler = "kata" })
      }
      #expect(handler == .invalidArgument)
      #expect(Files.kind(of: outside) == .missing, "no directory made outside")
      #expect(try await Self.list(cri).isEmpty)
      #expect(daemon.mounts().isEmpty)
      #expect(((try? Files.list(daemon.directory + "/run/pods")) ?? []).isEmpty)
      // A failed pod does not hold its name.
      _ = try await Self.run(cri, Self.podConfig(name: "s1"))
    }
  }

  @Test func podsSurviveAKilledDaemon() async throws {
    try await acrossAKilledDaemon { cri, _ in
      try await Self.run(cri, Self.podConfig())
    } after: { cri, second, id in
      let pods = try await Self.list(cri)
      #expect(pods.map(\.id) == [id])
      #expect(pods.first?.state == .sandboxReady, "its namespaces are still pinned")
      #expect(second.mounts().contains(second.directory + "/ns/netns/" + id))
      // The name is still reserved after the restart.
      var changed = Self.podConfig()
      changed.labels["x"] = "y"
      #expect(await rpcCode { try await Self.run(cri, changed) } == .alreadyExists)
      try await Self.stop(cri, id)
      try await Self.remove(cri, id)
      #expect(second.mounts().isEmpty)
    }
  }
}
