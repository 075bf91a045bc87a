@testable import PodNetwork
import Support
import Testing

@Suite struct CNIResultTests {
  @Test func parsesVersion020() throws {
    let result = try CNIResult(json: """
      {"cniVersion": "0.2.0",
       "ip4": {"ip": "10.1.0.5/16", "gateway": "10.1.0.1", "routes": [{"dst": "0.0.0.0/0"}]},
       "ip6": {"ip": "fd00::5/64", "gateway": "fd00::1", "routes": [{"dst": "::/0", "gw": "fd00::1"}]},
       "dns": {"nameservers": ["10.1.0.1"], "domain": "cluster.local", "search": ["svc.cluster.local"]}}
      """)
    #expect(result.cniVersion == "0.2.0")
    #expect(result.ips.map(\.address) == ["10.1.0.5/16", "fd00::5/64"])
    #expect(result.ips.map(\.gateway) == ["10.1.0.1", "fd00::1"])
    #expect(result.routes == [.init(destination: "0.0.0.0/0", gateway: nil), .init(destination: "::/0", gateway: "fd00::1")])
    #expect(result.dns.nameservers == ["10.1.0.1"])
    #expect(result.dns.domain == "cluster.local")
    #expect(result.podIPs == ["10.1.0.5", "fd00::5"])
  }

  @Test func parsesVersion010WithoutVersionField() throws {
    let result = try CNIResult(json: #"{"ip4": {"ip": "192.168.1.9/24"}}"#)
    #expect(result.cniVersion == "0.1.0")
    #expect(result.podIPs == ["192.168.1.9"])
  }

  /// As the bridge plugin prints it: host bridge, host veth, pod eth0.
  static let bridge031 = """
    {"cniVersion": "0.3.1",
     "interfaces": [{"name": "cni0", "mac": "aa:bb:cc:00:00:01"},
                    {"name": "veth1234", "mac": "aa:bb:cc:00:00:02"},
                    {"name": "eth0", "mac": "aa:bb:cc:00:00:03", "sandbox": "/var/run/netns/p"}],
     "ips": [{"version": "6", "address": "fd00:85::4/64", "gateway": "fd00:85::1", "interface": 2},
             {"version": "4", "address": "10.85.0.4/16", "gateway": "10.85.0.1", "interface": 2},
             {"version": "4", "address": "10.85.0.1/16", "interface": 0}],
     "routes": [{"dst": "0.0.0.0/0", "gw": "10.85.0.1"}],
     "dns": {}}
    """

  @Test func parsesVersion031AndOrdersPodIPs() throws {
    let result = try CNIResult(json: Self.bridge031)
    #expect(result.interfaces.map(\.name) == ["cni0", "veth1234", "eth0"])
    #expect(result.interfaces[2].sandbox == "/var/run/netns/p")
    #expect(result.ips.count == 3)
    #expect(result.ips[1].interface == 2)
    // IPv4 first; the bridge's own address (a host interface) is not the pod's.
    #expect(result.podIPs == ["10.85.0.4", "fd00:85::4"])
    #expect(result.routes == [.init(destination: "0.0.0.0/0", gateway: "10.85.0.1")])
    #expect(result.rawJSON == Self.bridge031)
  }

  @Test func parsesVersion040() throws {
    let result = try CNIResult(json: """
      {"cniVersion":"0.4.0","interfaces":[{"name":"eth0","sandbox":"/proc/1/ns/net"}],
       "ips":[{"version":"4","address":"10.22.0.2/24","gateway":"10.22.0.1","interface":0}]}
      """)
    #expect(result.podIPs == ["10.22.0.2"])
    #expect(result.ips[0].gateway == "10.22.0.1")
  }

  @Test(arguments: ["1.0.0", "1.1.0"])
  func parsesVersion1(version: String) throws {
    let result = try CNIResult(json: """
      {"cniVersion":"\(version)",
       "interfaces":[{"name":"eth0","mac":"0a:58:0a:55:00:07","mtu":1500,"sandbox":"/var/run/netns/x","socketPath":"/s","pciID":"0000:00:01.0"}],
       "ips":[{"address":"10.85.0.7/16","gateway":"10.85.0.1","interface":0},{"address":"2001:db8::7/64"}],
       "routes":[{"dst":"0.0.0.0/0","gw":"10.85.0.1","mtu":1400,"advmss":1360,"priority":10,"table":5,"scope":0}],
       "dns":{"nameservers":["8.8.8.8"],"options":["ndots:5"]}}
      """)
    #expect(result.cniVersion == version)
    #expect(result.interfaces[0].mtu == 1500)
    #expect(result.podIPs == ["10.85.0.7", "2001:db8::7"])
    #expect(result.dns.options == ["ndots:5"])
  }

  @Test(arguments: [
    (#"{"cniVersion":"1.0.0","ips":[{"gateway":"10.0.0.1"}]}"#, "has no \"address\""),
    (#"{"cniVersion":"1.0.0","ips":[{"address":"10.0.0.1"}]}"#, "not an address with a prefix length"),
    (#"{"cniVersion":"1.0.0","ips":[{"address":"10.0.0.2/24","interface":3}]}"#, "names interface 3"),
    (#"{"cniVersion":"1.0.0","ips":"x"}"#, "not an array"),
    (#"{"cniVersion":"0.2.0","ip4":{"gateway":"10.0.0.1"}}"#, "ip4 has no \"ip\""),
    ("[1]", "not a JSON object"),
    ("", "invalid JSON"),
  ])
  func rejectsBrokenResults(text: String, reason: String) {
    #expect {
      try CNIResult(json: text)
    } throws: { error in
      (error as? CNIResultError)?.description.contains(reason) == true
    }
  }

  @Test func jsonReaderRoundTripsAndKeepsOrderAndNumbers() throws {
    let text = #"{"b":1,"a":[true,false,null,-0.5,1e3,"x\"\\\/\n\u00e9\ud83d\ude00"],"c":{},"d":[],"e":-12}"#
    let value = try CNIJSON.parse(text)
    #expect(value.rendered() == #"{"b":1,"a":[true,false,null,-0.5,1e3,"x\"\\/\né😀"],"c":{},"d":[],"e":-12}"#)
    #expect(value.cniMember("e") == .int(-12))
    #expect(value.cniMember("a")?.cniArray?[5] == .string("x\"\\/\né😀"))
    #expect(value.cniSetting("b", .string("new")).rendered().hasPrefix(#"{"b":"new","a""#))
    #expect(value.cniSetting("z", .null).rendered().hasSuffix(#""z":null}"#))
    for bad in ["", "{", "[1,]", "{\"a\" 1}", "01", "\"\u{01}\"", "tru", "{} x", "1.", "-"] {
      #expect(throws: CNIJSON.ParseError.self, "\(bad)") { try CNIJSON.parse(bad) }
    }
  }

  @Test func base64MatchesGo() {
    let cases: [(String, String)] = [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("{\"a\":1}", "eyJhIjoxfQ==")]
    for (plain, encoded) in cases {
      #expect(Base64.encode(Array(plain.utf8)) == encoded)
      #expect(Base64.decode(encoded).map { String(decoding: $0, as: UTF8.self) } == plain)
    }
    #expect(Base64.decode("!!!") == nil)
  }

  @Test func pluginConfigGetsNameVersionPrevResultAndDeclaredCapabilitiesOnly() throws {
    let network = try CNINetworkConfig(listJSON: #"""
      {"cniVersion":"1.0.0","name":"n","plugins":[
        {"type":"bridge","name":"ignored","custom":{"k":[1.5]}},
        {"type":"portmap","capabilities":{"portMappings":true,"bandwidth":false},"runtimeConfig":{"old":1}}]}
      """#)
    let capabilities = CNICapabilityArgs(
      portMappings: [CNIPortMapping(hostPort: 8080, containerPort: 80, protocol: "TCP", hostIP: "127.0.0.1")],
      bandwidth: CNIBandwidth(ingressRate: 1000, ingressBurst: 2000),
      ipRanges: CNICapabilityArgs.ipRanges(podCIDRs: ["10.9.0.0/24"]))
    let prev = try CNIResult(json: #"{"cniVersion":"1.0.0","ips":[{"address":"10.9.0.2/24"}]}"#)

    let first = CNIRuntime.pluginConfig(network.plugins[0], network: network, prevResult: nil, capabilityArgs: capabilities.json)
    #expect(first.rendered() == #"{"type":"bridge","name":"n","custom":{"k":[1.5]},"cniVersion":"1.0.0"}"#)

    let second = CNIRuntime.pluginConfig(network.plugins[1], network: network, prevResult: prev, capabilityArgs: capabilities.json)
    #expect(second.cniMember("prevResult")?.rendered() == #"{"cniVersion":"1.0.0","ips":[{"address":"10.9.0.2/24"}]}"#)
    #expect(second.cniMember("runtimeConfig")?.rendered()
      == #"{"portMappings":[{"hostPort":8080,"containerPort":80,"protocol":"tcp","hostIP":"127.0.0.1"}]}"#)

    #expect(capabilities.json.rendered() == #"{"portMappings":[{"hostPort":8080,"containerPort":80,"protocol":"tcp","hostIP":"127.0.0.1"}],"#
      + #""bandwidth":{"ingressRate":1000,"ingressBurst":2000,"egressRate":0,"egressBurst":0},"ipRanges":[[{"subnet":"10.9.0.0/24"}]]}"#)
    #expect(CNIRuntime.cniArgsString(CNIPodInfo(namespace: "ns", name: "p", id: "abc", uid: "u-1").cniArgs)
      == "IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p;K8S_POD_INFRA_CONTAINER_ID=abc;K8S_POD_UID=u-1")
  }
}
