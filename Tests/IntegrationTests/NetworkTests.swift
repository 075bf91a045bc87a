#if canImport(Glibc)
import Glibc
#endif
import CRIAPI
import CRIClient
import GRPCCore
import Support
import TestFixtures
import Testing

/// Pod networking with Debian's real CNI plugins (bridge, host-local,
/// portmap), each test on its own bridge, subnet and IP store.
@Suite struct NetworkTests {
  /// A bridge network of this test's own.
  struct TestNetwork: Sendable {
    let bridge: String
    /// "172.<a>.<b>": the /24 is `<prefix>.0/24`, the gateway `<prefix>.1`.
    let prefix: String
    let ipamDirectory: String

    init(directory: String) {
      let random = UInt32.random(in: 0...UInt32.max)
      bridge = "crt" + String(random, radix: 16)
      prefix = "172.\(16 + random % 16).\((random >> 8) % 256)"
      ipamDirectory = directory + "/ipam"
    }

    var gateway: String { prefix + ".1" }

    var conflist: String {
      """
      {"cniVersion": "1.0.0", "name": "crio-test", "plugins": [
        {"type": "bridge", "bridge": "\(bridge)", "isGateway": true, "ipMasq": false, "hairpinMode": true,
         "ipam": {"type": "host-local", "dataDir": "\(ipamDirectory)", "ranges": [[{"subnet": "\(prefix).0/24"}]],
                  "routes": [{"dst": "0.0.0.0/0"}]}},
        {"type": "portmap", "capabilities": {"portMappings": true}}
      ]}
      """
    }

    /// Addresses host-local has handed out and not released.
    func allocatedAddresses() -> [String] {
      ((try? Files.list(ipamDirectory + "/crio-test")) ?? []).filter { $0.hasPrefix(prefix) }
    }

    /// Interfaces enslaved to the bridge (the pods' veths).
    func veths() async -> [String] {
      let output = (try? await Processes.run("/sbin/ip", ["-o", "link", "show", "master", bridge]))?.stdout ?? ""
      return output.split(separator: "\n").map(String.init)
    }

    func remove() async {
      _ = try? await Processes.run("/sbin/ip", ["link", "del", bridge])
    }
  }

  /// Runs `body` with a daemon whose default network is a fresh bridge.
  func withNetwork<T: Sendable>(
    extraConfig: String = "",
    _ body: (CRIConnection, DaemonProcess, TestNetwork) async throws -> T
  ) async throws -> T {
    try await RegistryServer.withRunning { registry in
      try await TestImages.pushBusybox(to: registry)
      let holder = NetworkHolder()
      defer { if let network = holder.network { Task { await network.remove() } } }
      return try await withImageDaemon(registry: registry, extraConfig: extraConfig, prepare: { directory in
        let network = TestNetwork(directory: directory)
        holder.network = network
        try Files.write(directory + "/cni/net.d/10-test.conflist", network.conflist)
      }) { cri, daemon in
        _ = try await cri.pull("\(registry.host)/busybox:1")
        let network = try #require(holder.network)
        let result = try await body(cri, daemon, network)
        await network.remove()
        return result
      }
    }
  }

  final class NetworkHolder: @unchecked Sendable {
    var network: TestNetwork?
  }

  static func pod(_ name: String, ports: [(host: Int32, container: Int32)] = []) -> Runtime_V1_PodSandboxConfig {
    var config = PodSandboxTests.podConfig(name: name)
    config.metadata.uid = "uid-\(name)"
    config.portMappings = ports.map { port in .with { $0.hostPort = port.host; $0.containerPort = port.container; $0.protocol = .tcp } }
    return config
  }

  func podIP(_ cri: CRIConnection, _ pod: String) async throws -> String {
    try await cri.runtime.podSandboxStatus(.with { $0.podSandboxID = pod }).status.network.ip
  }

  func runContainer(_ cri: CRIConnection, pod: String, _ name: String, _ script: String) async throws -> String {
    var config = ContainerTests.container(name, script)
    config.logPath = ""
    let id = try await cri.runtime.createContainer(.with { $0.podSandboxID = pod; $0.config = config }).containerID
    _ = try await cri.runtime.startContainer(.with { $0.containerID = id })
    return id
  }

  func exec(_ cri: CRIConnection, _ id: String, _ command: [String]) async throws -> String {
    let result = try await cri.runtime.execSync(.with { $0.containerID = id; $0.cmd = command; $0.timeout = 10 })
    return String(decoding: result.stdout, as: UTF8.self)
  }

  /// `wget` from a container, retried while the server starts (no `-T`:
  /// Debian's static busybox wget crashes with it); on failure
  /// the last attempt's error output.
  func fetch(_ cri: CRIConnection, from id: String, _ url: String) async throws -> String {
    var failure = ""
    for _ in 0..<30 {
      let result = try await cri.runtime.execSync(.with { $0.containerID = id; $0.cmd = ["wget", "-q", "-O", "-", url]; $0.timeout = 10 })
      if result.exitCode == 0 { return String(decoding: result.stdout, as: UTF8.self) }
      failure = "wget \(url) failed (\(result.exitCode)): " + String(decoding: result.stderr, as: UTF8.self)
      try await Task.sleep(for: .milliseconds(100))
    }
    return failure
  }

  static let httpdScript = "mkdir -p /tmp/www && hostname > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www"

  @Test func podsGetAddressesAndReachEachOtherTheHostAndHostPorts() async throws {
    try await withNetwork { cri, daemon, network in
      let hostPort = Int32.random(in: 20000...30000)
      // The server pod has its own user namespace: its network namespace
      // belongs to it, and CNI and host ports work all the same.
      var serverConfig = Self.pod("server", ports: [(hostPort, 8080)])
      serverConfig.linux.securityContext.namespaceOptions.usernsOptions = UserNamespaceTests.userns()
      let server = try await PodSandboxTests.run(cri, serverConfig)
      let client = try await PodSandboxTests.run(cri, Self.pod("client"))
      let serverIP = try await podIP(cri, server)
      let clientIP = try await podIP(cri, client)
      #expect(serverIP.hasPrefix(network.prefix + ".") && clientIP.hasPrefix(network.prefix + "."), "\(serverIP) \(clientIP)")
      #expect(serverIP != clientIP)
      #expect(network.allocatedAddresses().sorted() == [serverIP, clientIP].sorted())

      _ = try await runContainer(cri, pod: server, "httpd", Self.httpdScript)
      let clientContainer = try await runContainer(cri, pod: client, "sleeper", "trap 'exit 0' QUIT; sleep 1000 & wait")
      // Pod to pod.
      let podToPod = try await fetch(cri, from: clientContainer, "http://\(serverIP):8080/")
      #expect(podToPod == "server\n", "\(podToPod)")
      // Pod to the host, on the bridge's address.
      let hostDirectory = daemon.directory + "/host-www"
      try Files.makeDirectories(hostDirectory, mode: 0o755)
      try Files.write(hostDirectory + "/index.html", "from the host\n")
      let hostServerPort = Int.random(in: 30001...40000)
      let hostServer = try Processes.spawn(
        "/bin/busybox", ["httpd", "-f", "-p", "\(network.gateway):\(hostServerPort)", "-h", hostDirectory],
        stdout: "/dev/null", stderr: "/dev/null")
      defer { kill(hostServer, SIGKILL); _ = Processes.reap(hostServer) }
      let podToHost = try await fetch(cri, from: clientContainer, "http://\(network.gateway):\(hostServerPort)/")
      #expect(podToHost == "from the host\n", "\(podToHost)")
      // The host port, from the host.
      var fromHost = ""
      for _ in 0..<50 where fromHost.isEmpty {
        fromHost = (try? await Processes.run("/bin/busybox", ["wget", "-q", "-O", "-", "http://\(network.gateway):\(hostPort)/"], timeout: .seconds(5)))?.stdout ?? ""
        if fromHost.isEmpty { try await Task.sleep(for: .milliseconds(100)) }
      }
      #expect(fromHost == "server\n", "host port \(hostPort) reaches the pod")

      // The pod's network figures come from its namespace.
      let usage = try await cri.runtime.podSandboxStats(.with { $0.podSandboxID = client }).stats.linux.network
      #expect(usage.defaultInterface.name == "eth0")
      #expect(usage.defaultInterface.rxBytes.value > 0 && usage.defaultInterface.txBytes.value > 0)

      for pod in [server, client] {
        try await PodSandboxTests.stop(cri, pod)
        try await PodSandboxTests.remove(cri, pod)
      }
      #expect(network.allocatedAddresses().isEmpty, "host-local released both addresses")
      #expect(await network.veths().isEmpty, "no veth left on \(network.bridge)")
      let nat = (try? await Processes.run("/usr/sbin/iptables-save", ["-t", "nat"]))?.stdout ?? ""
      #expect(!nat.contains(server) && !nat.contains(client), "no port mapping rule of the pods left")
    }
  }

  @Test func fiftyCreateRemoveCyclesLeaveNoAddressVethOrRule() async throws {
    try await withNetwork { cri, _, network in
      let natBefore = (try? await Processes.run("/usr/sbin/iptables-save", ["-t", "nat"]))?.stdout ?? ""
      let rulesBefore = natBefore.split(separator: "\n").filter { $0.hasPrefix("-A") }.count
      for cycle in 0..<50 {
        let pod = try await PodSandboxTests.run(cri, Self.pod("cycle-\(cycle)", ports: [(Int32(41000 + cycle), 80)]))
        try await PodSandboxTests.stop(cri, pod)
        try await PodSandboxTests.remove(cri, pod)
      }
      #expect(network.allocatedAddresses().isEmpty)
      #expect(await network.veths().isEmpty)
      let natAfter = (try? await Processes.run("/usr/sbin/iptables-save", ["-t", "nat"]))?.stdout ?? ""
      let rulesAfter = natAfter.split(separator: "\n").filter { $0.hasPrefix("-A") }.count
      // portmap's shared chains may appear once; no rule per pod remains.
      #expect(rulesAfter <= rulesBefore + 8, "\(rulesBefore) rules before, \(rulesAfter) after")
      #expect(!natAfter.contains("cycle-"))
    }
  }

  @Test func brokenMissingAndFailingNetworksGiveClearErrorsAndNoLeftovers() async throws {
    let plugins = try Files.makeTemporaryDirectory(prefix: "crio-cni-plugins")
    defer { Files.removeTree(plugins) }
    try Files.write(plugins + "/failing", """
      #!/bin/sh
      [ "$CNI_COMMAND" = DEL ] && exit 0
      echo '{"cniVersion": "1.0.0", "code": 7, "msg": "failing on purpose", "details": "asked to"}'
      exit 1
      """, mode: 0o755)
    let config = "[crio.network]\nplugin_dirs = [\"\(plugins)\", \"/usr/lib/cni\"]\n"
    try await withCRI(config: config, prepare: { directory in
      unlink(directory + "/cni/net.d/99-loopback.conflist")
    }) { cri, daemon in
      func networkReady() async throws -> Runtime_V1_RuntimeCondition? {
        try await cri.runtime.status(.init()).status.conditions.first { $0.type == "NetworkReady" }
      }
      func readiness(becomes ready: Bool) async throws -> Runtime_V1_RuntimeCondition? {
        for _ in 0..<40 {
          if let condition = try await networkReady(), condition.status == ready { return condition }
          try await Task.sleep(for: .milliseconds(100))
        }
        return try await networkReady()
      }
      func expectRefusal(_ expected: String, _ comment: Comment) async throws {
        do {
          _ = try await PodSandboxTests.run(cri, Self.pod("refused"))
          Issue.record("RunPodSandbox succeeded: \(comment)")
        } catch let error as RPCError {
          #expect(error.message.contains(expected), "\(comment): \(error.message)")
        }
        #expect(try await PodSandboxTests.list(cri).isEmpty)
        #expect(daemon.mounts().isEmpty, "\(comment): \(daemon.mounts())")
        #expect(((try? Files.list(daemon.directory + "/ns/netns")) ?? []).isEmpty)
      }
      let directory = daemon.directory + "/cni/net.d"

      // No configuration at all.
      let empty = try await networkReady()
      #expect(empty?.status == false && empty?.reason == "NetworkPluginNotReady")
      #expect(empty?.message.contains("No CNI configuration file") == true, "\(empty?.message ?? "")")
      try await expectRefusal("No CNI configuration file", "empty directory")

      // A broken file is named with what is wrong.
      try Files.write(directory + "/10-broken.conflist", "{ not json")
      try await Task.sleep(for: .milliseconds(1100))
      let broken = try await readiness(becomes: false)
      #expect(broken?.message.contains("10-broken.conflist") == true, "\(broken?.message ?? "")")

      // A plugin that is not installed.
      try Files.write(directory + "/20-missing.conflist", #"{"cniVersion":"1.0.0","name":"missing","plugins":[{"type":"nosuchplugin"}]}"#)
      try await Task.sleep(for: .milliseconds(1100))
      let missing = try await readiness(becomes: false)
      #expect(missing?.message.contains("nosuchplugin") == true, "\(missing?.message ?? "")")

      // A plugin that fails: the network is ready, the pod is refused with the plugin's words.
      try Files.write(directory + "/30-failing.conflist", #"{"cniVersion":"1.0.0","name":"failing","plugins":[{"type":"failing"}]}"#)
      #expect(try await readiness(becomes: true)?.status == true)
      try await expectRefusal("failing on purpose", "failing plugin")

      // Taking the configuration away makes the network not ready again.
      for file in ["10-broken.conflist", "20-missing.conflist", "30-failing.conflist"] { unlink(directory + "/" + file) }
      #expect(try await readiness(becomes: false)?.status == false)
    }
  }

  @Test func aPodKeepsItsAddressAcrossAKilledDaemonAndIsTornDownAfter() async throws {
    try await RegistryServer.withRunning { registry in
      let dir = try Files.makeTemporaryDirectory(prefix: "crio-net")
      defer { Files.removeTree(dir) }
      let holder = NetworkHolder()
      try await acrossAKilledDaemon(config: try registry.pullConfiguration(in: dir)) { directory in
        let network = TestNetwork(directory: directory)
        holder.network = network
        try Files.write(directory + "/cni/net.d/10-test.conflist", network.conflist)
      } before: { cri, _ in
        let pod = try await PodSandboxTests.run(cri, Self.pod("survivor"))
        return (pod, try await podIP(cri, pod))
      } after: { cri, restarted, created in
        let (pod, ip) = created
        let network = try #require(holder.network)
        #expect(try await podIP(cri, pod) == ip)
        // The restarted daemon asked the plugins (CNI CHECK) about the pod's network.
        #expect(await eventually { restarted.log().contains("Checked pod network") }, "\(restarted.log())")
        #expect(network.allocatedAddresses() == [ip])
        try await PodSandboxTests.stop(cri, pod)
        try await PodSandboxTests.remove(cri, pod)
        #expect(network.allocatedAddresses().isEmpty)
        #expect(await network.veths().isEmpty)
      }
      await holder.network?.remove()
    }
  }
}
