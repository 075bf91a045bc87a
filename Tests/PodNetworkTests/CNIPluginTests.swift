#if canImport(Glibc)
import Glibc
#endif
@testable import PodNetwork
import Support
import Testing

/// Real plugins from Debian's containernetworking-plugins (/usr/lib/cni) on
/// real network namespaces, and small script plugins for what real ones
/// cannot show (errors, the environment, timeouts). Root only.
@Suite(.enabled(if: getuid() == 0 && Files.kind(of: CNITestBed.debianPlugins + "/bridge") == .file))
struct CNIPluginTests {
  @Test func addThenDeleteWithBridgeHostLocalAndPortmap() async throws {
    try await withCNITestBed { bed in
      try await bed.makeNetns()
      // isGateway turns on IPv4 forwarding on the host; put it back after.
      let forwarding = try Files.read("/proc/sys/net/ipv4/ip_forward")
      defer { try? Files.write("/proc/sys/net/ipv4/ip_forward", forwarding) }
      let natBefore = try await iptablesNat()
      let network = try CNINetworkConfig(listJSON: bed.bridgeConflist(ipMasq: true, gateway: true, portmap: true))
      let runtime = bed.runtime()
      let pod = bed.pod()
      let capabilities = CNICapabilityArgs(
        portMappings: [CNIPortMapping(hostPort: 40000 + Int.random(in: 0..<20000), containerPort: 80)])

      let result = try await runtime.add(network: network, pod: pod, netnsPath: bed.netnsPath, capabilities: capabilities)
      #expect(result.podIPs.count == 1)
      let ip = try #require(result.podIPs.first)
      #expect(ip.hasPrefix(bed.subnetPrefix + "."), "\(ip) in \(bed.subnet)")
      #expect(try await bed.interfacesInNetns().contains("eth0    inet \(ip)/24"))
      #expect(bed.allocatedIPs(network: network.name) == [ip])
      #expect(try await bed.bridgePorts().count == 1)
      let natDuring = try await iptablesNat()
      #expect(natDuring.contains { $0.contains(pod.id) && $0.contains("CNI-DN-") }, "portmap's DNAT chain")
      #expect(natDuring.contains { $0.contains(pod.id) && $0.contains("MASQUERADE") }, "bridge's ipMasq rule")

      // The cache has what DEL needs.
      let cached = try #require(try runtime.cachedResult(networkName: network.name, pod: pod))
      #expect(cached.podIPs == [ip])
      #expect(runtime.cachedEntries(pod: pod).first?.capabilityArgs == capabilities.json)

      // No CHECK here: Debian's portmap 1.1.1 fails CHECK on IPv4-only pods
      // (containernetworking/plugins#819); see checkWithRealPlugins.

      try await runtime.delete(network: network, pod: pod, netnsPath: bed.netnsPath, capabilities: capabilities)
      #expect(bed.allocatedIPs(network: network.name).isEmpty, "host-local released the address")
      #expect(try await bed.bridgePorts().isEmpty, "the veth is gone")
      #expect(!(try await bed.interfacesInNetns().contains("eth0")))
      #expect(try runtime.cachedResult(networkName: network.name, pod: pod) == nil)
      let natAfter = try await iptablesNat()
      #expect(!natAfter.contains { $0.contains(pod.id) }, "no rule of the pod left: \(natAfter)")
      // Only portmap's shared top-level chains (and jumps to them) may be new.
      let added = Self.ownRules(natAfter.filter { !natBefore.contains($0) }, network: network.name)
      #expect(added.allSatisfy { $0.contains("CNI-HOSTPORT-") }, "left in nat: \(added)")

      // DEL again is fine (no cache now: the given network is used).
      try await runtime.delete(network: network, pod: pod, netnsPath: bed.netnsPath, capabilities: capabilities)
      #expect(bed.allocatedIPs(network: network.name).isEmpty)
    }
  }

  /// The nat table is the host's: pods of other networks (another test's,
  /// a daemon running beside the tests) come and go while this test runs.
  /// Rules whose comment names another network, and the chains they use,
  /// are theirs.
  static func ownRules(_ rules: [String], network: String) -> [String] {
    let foreign = rules.filter { $0.contains("--comment \"name: ") && !$0.contains("name: \\\"\(network)\\\"") }
    let foreignChains = Set(foreign.flatMap { rule in
      rule.split(separator: " ").filter { $0.hasPrefix("CNI-") && !$0.hasPrefix("CNI-HOSTPORT-") }.map(String.init)
    })
    return rules.filter { rule in
      !foreign.contains(rule) && !(rule.hasPrefix("-N ") && foreignChains.contains(String(rule.dropFirst(3))))
    }
  }

  @Test func rulesOfOtherNetworksAreNotCounted() {
    let rules = [
      #"-N CNI-5e7b07d325e37e33310ef9ed"#,
      #"-A POSTROUTING -s 10.85.0.8/32 -m comment --comment "name: \"crio\" id: \"21a0\"" -j CNI-5e7b07d325e37e33310ef9ed"#,
      #"-A CNI-5e7b07d325e37e33310ef9ed -d 10.85.0.0/16 -m comment --comment "name: \"crio\" id: \"21a0\"" -j ACCEPT"#,
      #"-N CNI-HOSTPORT-DNAT"#,
      #"-N CNI-0123456789abcdef01234567"#,
      #"-A CNI-0123456789abcdef01234567 -m comment --comment "name: \"net7\" id: \"p1\"" -j ACCEPT"#,
    ]
    #expect(Self.ownRules(rules, network: "net7") == [
      #"-N CNI-HOSTPORT-DNAT"#, #"-N CNI-0123456789abcdef01234567"#,
      #"-A CNI-0123456789abcdef01234567 -m comment --comment "name: \"net7\" id: \"p1\"" -j ACCEPT"#,
    ])
  }

  @Test func checkWithRealPlugins() async throws {
    try await withCNITestBed { bed in
      try await bed.makeNetns()
      let network = try CNINetworkConfig(listJSON: bed.bridgeConflist())
      let runtime = bed.runtime()
      _ = try await runtime.add(network: network, pod: bed.pod(), netnsPath: bed.netnsPath)
      try await runtime.check(network: network, pod: bed.pod(), netnsPath: bed.netnsPath)
      // The pod's interface removed behind the runtime's back: CHECK says so.
      _ = try await Processes.run("/usr/sbin/ip", ["-n", bed.netnsName, "link", "del", "eth0"])
      await #expect {
        try await runtime.check(network: network, pod: bed.pod(), netnsPath: bed.netnsPath)
      } throws: { error in
        guard case .pluginFailed(let failure) = error as? CNIError else { return false }
        return failure.command == "CHECK" && failure.plugin == "bridge"
      }
      try await runtime.delete(network: network, pod: bed.pod(), netnsPath: bed.netnsPath)
      #expect(bed.allocatedIPs(network: network.name).isEmpty)
    }
  }

  @Test func deleteAfterTheNamespaceIsGoneReleasesTheAddress() async throws {
    try await withCNITestBed { bed in
      try await bed.makeNetns()
      let network = try CNINetworkConfig(listJSON: bed.bridgeConflist(version: "0.4.0"))
      let runtime = bed.runtime()
      let result = try await runtime.add(network: network, pod: bed.pod(), netnsPath: bed.netnsPath)
      #expect(result.podIPs.first?.hasPrefix(bed.subnetPrefix + ".") == true)
      #expect(bed.allocatedIPs(network: network.name).count == 1)

      #expect(CNIRuntime.isNetworkNamespace(bed.netnsPath))
      #expect(CNIRuntime.isNetworkNamespace("/proc/self/ns/net"))
      #expect(!CNIRuntime.isNetworkNamespace(bed.dir))
      await bed.removeNetns()
      #expect(Files.kind(of: bed.netnsPath) == .missing)
      #expect(!CNIRuntime.isNetworkNamespace(bed.netnsPath))
      try await runtime.delete(network: network, pod: bed.pod(), netnsPath: bed.netnsPath)
      #expect(bed.allocatedIPs(network: network.name).isEmpty)
      #expect(try await bed.bridgePorts().isEmpty, "the veth went with the namespace")
      try await runtime.delete(network: network, pod: bed.pod(), netnsPath: bed.netnsPath)
      try await runtime.delete(network: nil, pod: bed.pod(), netnsPath: nil)
    }
  }

  @Test func deleteUsesTheCachedConfigurationAfterTheDirectoryChanged() async throws {
    try await withCNITestBed { bed in
      try await bed.makeNetns()
      let name = "net" + bed.tag
      let network = try CNINetworkConfig(listJSON: bed.bridgeConflist(name: name))
      // A fresh runtime object, as after a daemon restart.
      _ = try await bed.runtime().add(network: network, pod: bed.pod(), netnsPath: bed.netnsPath)
      #expect(bed.allocatedIPs(network: name).count == 1)

      // The network now names a plugin that is not installed: the cached list is used.
      let changed = try CNINetworkConfig(listJSON: #"{"cniVersion":"1.0.0","name":"\#(name)","plugins":[{"type":"gone-plugin"}]}"#)
      try await bed.runtime().delete(network: changed, pod: bed.pod(), netnsPath: bed.netnsPath)
      #expect(bed.allocatedIPs(network: name).isEmpty)
      #expect(try await bed.bridgePorts().isEmpty)
    }
  }

  @Test func aMissingPluginNamesItAndTheDirectories() async throws {
    try await withCNITestBed { bed in
      try await bed.makeNetns()
      let network = try CNINetworkConfig(listJSON: """
        {"cniVersion":"1.0.0","name":"n\(bed.tag)","plugins":[
          {"type":"bridge","bridge":"\(bed.bridge)","ipam":{"type":"host-local","dataDir":"\(bed.dataDir)","subnet":"\(bed.subnet)"}},
          {"type":"not-installed"}]}
        """)
      let runtime = bed.runtime(pluginDirs: [bed.dir + "/nowhere", CNITestBed.debianPlugins])
      await #expect(throws: CNIError.pluginNotFound(plugin: "not-installed", network: network.name, searched: [bed.dir + "/nowhere", CNITestBed.debianPlugins])) {
        try await runtime.add(network: network, pod: bed.pod(), netnsPath: bed.netnsPath)
      }
      let message = CNIError.pluginNotFound(plugin: "not-installed", network: "n", searched: ["/a", "/b"]).description
      #expect(message == #"CNI plugin "not-installed" of network "n" not found in /a, /b; install it or set plugin_dirs"#)
      // Nothing ran: no address, no bridge, no cache.
      #expect(bed.allocatedIPs(network: network.name).isEmpty)
      #expect(try await Processes.run("/usr/sbin/ip", ["link", "show", bed.bridge]).status != 0)
      #expect(runtime.cachedEntries(pod: bed.pod()).isEmpty)
    }
  }

  @Test func aFailingPluginGivesItsMessageAndAddIsRolledBack() async throws {
    try await withCNITestBed { bed in
      try await bed.makeNetns()
      let scripts = try bed.scriptPlugin("failer", """
        cat > /dev/null
        echo "$CNI_COMMAND" >> "\(bed.dir)/failer-calls"
        if [ "$CNI_COMMAND" = ADD ]; then
          echo '{"cniVersion":"1.0.0","code":7,"msg":"no more ports","details":"range 1-2 exhausted"}'
          echo 'some noise' >&2
          exit 1
        fi
        """)
      let network = try CNINetworkConfig(listJSON: """
        {"cniVersion":"1.0.0","name":"n\(bed.tag)","plugins":[
          {"type":"bridge","bridge":"\(bed.bridge)","ipam":{"type":"host-local","dataDir":"\(bed.dataDir)","subnet":"\(bed.subnet)"}},
          {"type":"failer"}]}
        """)
      let runtime = bed.runtime(pluginDirs: [scripts, CNITestBed.debianPlugins])
      var thrown: CNIError?
      do {
        _ = try await runtime.add(network: network, pod: bed.pod(), netnsPath: bed.netnsPath)
      } catch {
        thrown = error as? CNIError
      }
      guard case .pluginFailed(let failure)? = thrown else {
        Issue.record("expected pluginFailed, got \(String(describing: thrown))")
        return
      }
      #expect(failure.plugin == "failer")
      #expect(failure.command == "ADD")
      #expect(failure.code == 7)
      #expect(failure.message == "no more ports")
      #expect(failure.details == "range 1-2 exhausted")
      #expect(failure.exitStatus == 1)
      #expect(failure.stderr == "some noise")
      #expect(failure.description == #"CNI plugin "failer" of network "n\#(bed.tag)" failed (ADD): no more ports (range 1-2 exhausted) [code 7]"#)
      // Rolled back: DEL ran for both plugins, the bridge plugin's address
      // and veth are gone, nothing cached.
      #expect(try Files.read(bed.dir + "/failer-calls") == "ADD\nDEL\n")
      #expect(bed.allocatedIPs(network: network.name).isEmpty)
      #expect(try await bed.bridgePorts().isEmpty)
      #expect(!(try await bed.interfacesInNetns().contains("eth0")))
      #expect(runtime.cachedEntries(pod: bed.pod()).isEmpty)
    }
  }

  @Test func aPluginWithoutAnErrorResultReportsItsStatusAndStderr() async throws {
    try await withCNITestBed { bed in
      let scripts = try bed.scriptPlugin("crasher", "echo 'panic: nil map' >&2; exit 2")
      let network = try CNINetworkConfig(listJSON: #"{"cniVersion":"0.3.1","name":"c","plugins":[{"type":"crasher"}]}"#)
      await #expect {
        try await bed.runtime(pluginDirs: [scripts]).add(network: network, pod: bed.pod(), netnsPath: bed.dir)
      } throws: { error in
        (error as? CNIError)?.description == #"CNI plugin "crasher" of network "c" failed (ADD): exit status 2: panic: nil map"#
      }
    }
  }

  @Test func pluginsGetTheSpecEnvironmentAndConfiguration() async throws {
    try await withCNITestBed { bed in
      let scripts = try bed.scriptPlugin("dumper", """
        cat > "\(bed.dir)/stdin-$CNI_COMMAND"
        env > "\(bed.dir)/env-$CNI_COMMAND"
        if [ "$CNI_COMMAND" = ADD ]; then
          echo '{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","sandbox":"'"$CNI_NETNS"'"}],"ips":[{"address":"fd00::9/64","interface":0},{"address":"10.1.2.3/24","interface":0}]}'
        fi
        """)
      let network = try CNINetworkConfig(listJSON: """
        {"cniVersion":"1.0.0","name":"dump","plugins":[{"type":"dumper","marker":"one","capabilities":{"portMappings":true,"ipRanges":true}}]}
        """)
      let runtime = bed.runtime(pluginDirs: [scripts, "/nonexistent"])
      let pod = CNIPodInfo(namespace: "team-a", name: "web-0", id: "sandbox" + bed.tag, uid: "1234-5678")
      let capabilities = CNICapabilityArgs(
        portMappings: [CNIPortMapping(hostPort: 8080, containerPort: 80, protocol: "udp")],
        bandwidth: CNIBandwidth(ingressRate: 1),
        ipRanges: CNICapabilityArgs.ipRanges(podCIDRs: ["10.1.2.0/24"]))
      let result = try await runtime.add(network: network, pod: pod, netnsPath: bed.dir, capabilities: capabilities)
      #expect(result.podIPs == ["10.1.2.3", "fd00::9"])

      func environment(_ command: String) throws -> [String: String] {
        var values: [String: String] = [:]
        for line in try Files.read(bed.dir + "/env-" + command).split(separator: "\n") {
          guard let equals = line.firstIndex(of: "=") else { continue }
          values[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return values
      }
      let add = try environment("ADD")
      #expect(add["CNI_COMMAND"] == "ADD")
      #expect(add["CNI_CONTAINERID"] == pod.id)
      #expect(add["CNI_NETNS"] == bed.dir)
      #expect(add["CNI_IFNAME"] == "eth0")
      #expect(add["CNI_PATH"] == scripts + ":/nonexistent")
      #expect(add["CNI_ARGS"] == "IgnoreUnknown=1;K8S_POD_NAMESPACE=team-a;K8S_POD_NAME=web-0;K8S_POD_INFRA_CONTAINER_ID=\(pod.id);K8S_POD_UID=1234-5678")
      #expect(add["PATH"] != nil)

      let addInput = try CNIJSON.parse(try Files.read(bed.dir + "/stdin-ADD"))
      #expect(addInput.cniMember("name") == .string("dump"))
      #expect(addInput.cniMember("cniVersion") == .string("1.0.0"))
      #expect(addInput.cniMember("marker") == .string("one"))
      #expect(addInput.cniMember("prevResult") == nil)
      #expect(addInput.cniMember("runtimeConfig")?.rendered()
        == #"{"portMappings":[{"hostPort":8080,"containerPort":80,"protocol":"udp"}],"ipRanges":[[{"subnet":"10.1.2.0/24"}]]}"#)

      // DEL after the configuration changed on disk: what ADD used is sent,
      // with ADD's result as prevResult.
      let changed = try CNINetworkConfig(listJSON: #"{"cniVersion":"1.0.0","name":"dump","plugins":[{"type":"dumper","marker":"two"}]}"#)
      try await runtime.delete(network: changed, pod: pod, netnsPath: bed.dir)
      let delInput = try CNIJSON.parse(try Files.read(bed.dir + "/stdin-DEL"))
      #expect(delInput.cniMember("marker") == .string("one"))
      #expect(delInput.cniMember("prevResult")?.cniMember("ips")?.cniArray?.count == 2)
      #expect(delInput.cniMember("runtimeConfig") == addInput.cniMember("runtimeConfig"))
      #expect(try environment("DEL")["CNI_COMMAND"] == "DEL")
      // A path that is not a namespace (an unmounted pin) is sent as empty.
      #expect(try environment("DEL")["CNI_NETNS"] == "")
      // The namespace is gone now: DEL sends an empty CNI_NETNS.
      Files.removeTree(bed.dir + "/gone")
      try await runtime.delete(network: changed, pod: pod, netnsPath: bed.dir + "/gone")
      #expect(try environment("DEL")["CNI_NETNS"] == "")
    }
  }

  @Test func checkNeedsVersion040AndACachedResult() async throws {
    try await withCNITestBed { bed in
      let scripts = try bed.scriptPlugin("ok", """
        cat > /dev/null
        [ "$CNI_COMMAND" = ADD ] && echo '{"cniVersion":"0.4.0","ips":[{"version":"4","address":"10.3.0.2/24"}]}'
        exit 0
        """)
      let runtime = bed.runtime(pluginDirs: [scripts])
      let old = try CNINetworkConfig(listJSON: #"{"cniVersion":"0.3.1","name":"old","plugins":[{"type":"ok"}]}"#)
      await #expect(throws: CNIError.checkUnsupported(network: "old", version: "0.3.1")) {
        try await runtime.check(network: old, pod: bed.pod(), netnsPath: bed.dir)
      }
      let current = try CNINetworkConfig(listJSON: #"{"cniVersion":"0.4.0","name":"cur","plugins":[{"type":"ok"}]}"#)
      await #expect(throws: CNIError.noCachedResult(network: "cur", containerID: bed.pod().id)) {
        try await runtime.check(network: current, pod: bed.pod(), netnsPath: bed.dir)
      }
      _ = try await runtime.add(network: current, pod: bed.pod(), netnsPath: bed.dir)
      try await runtime.check(network: current, pod: bed.pod(), netnsPath: bed.dir)
      try await runtime.delete(network: current, pod: bed.pod(), netnsPath: bed.dir)
    }
  }

  @Test func aHangingPluginIsKilledAfterTheTimeout() async throws {
    try await withCNITestBed { bed in
      let scripts = try bed.scriptPlugin("sleeper", """
        cat > /dev/null
        [ "$CNI_COMMAND" = ADD ] && exec sleep 300
        exit 0
        """)
      let network = try CNINetworkConfig(listJSON: #"{"cniVersion":"1.0.0","name":"slow","plugins":[{"type":"sleeper"}]}"#)
      let started = ContinuousClock.now
      await #expect(throws: CNIError.pluginTimedOut(plugin: "sleeper", network: "slow", command: "ADD", seconds: 1)) {
        try await bed.runtime(pluginDirs: [scripts], timeout: .seconds(1)).add(network: network, pod: bed.pod(), netnsPath: bed.dir)
      }
      // Not a speed check: only that the call did not wait for the plugin
      // (300 s), however loaded the machine.
      #expect(ContinuousClock.now - started < .seconds(150))
    }
  }

  @Test func rejectsArgumentsCNIWouldRefuse() async throws {
    try await withCNITestBed { bed in
      let network = try CNINetworkConfig(listJSON: #"{"cniVersion":"1.0.0","name":"x","plugins":[{"type":"bridge"}]}"#)
      let runtime = bed.runtime()
      var pod = bed.pod()
      pod.id = "../etc"
      await #expect(throws: CNIError.self) { try await runtime.add(network: network, pod: pod, netnsPath: bed.dir) }
      pod = bed.pod(ifName: "a-very-long-interface-name")
      await #expect(throws: CNIError.self) { try await runtime.add(network: network, pod: pod, netnsPath: bed.dir) }
      await #expect {
        try await runtime.add(network: network, pod: bed.pod(), netnsPath: bed.dir + "/missing-netns")
      } throws: { error in
        (error as? CNIError)?.description.contains("does not exist") == true
      }
    }
  }
}
