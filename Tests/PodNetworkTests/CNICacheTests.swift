@testable import PodNetwork
import Support
import Testing

@Suite struct CNICacheTests {
  @Test func writesLibcniFormatAndReadsItBack() throws {
    let dir = try Files.makeTemporaryDirectory(prefix: "crio-cni-cache")
    defer { Files.removeTree(dir) }
    let cache = CNIResultCache(dir: dir)
    let network = try CNINetworkConfig(listJSON: #"{"cniVersion":"1.0.0","name":"my-net","plugins":[{"type":"bridge"}]}"#)
    let result = try CNIResult(json: CNIResultTests.bridge031)
    let pod = CNIPodInfo(namespace: "ns", name: "p", id: "abc123", uid: "u")
    let entry = CNICacheEntry(
      containerID: "abc123", ifName: "eth0", networkName: "my-net", netns: "/var/run/netns/x", cniArgs: pod.cniArgs,
      capabilityArgs: CNICapabilityArgs(portMappings: [CNIPortMapping(hostPort: 1, containerPort: 2)]).json,
      config: network, result: result)
    try cache.write(entry)

    let path = dir + "/results/my-net-abc123-eth0"
    #expect(cache.path(networkName: "my-net", containerID: "abc123", ifName: "eth0") == path)
    let json = try CNIJSON.parse(try Files.read(path))
    #expect(json.cniMember("kind") == .string("cniCacheV1"))
    #expect(json.cniMember("containerId") == .string("abc123"))
    #expect(json.cniMember("networkName") == .string("my-net"))
    #expect(json.cniMember("ifName") == .string("eth0"))
    #expect(json.cniMember("config") == .string(Base64.encode(Array(network.bytes.utf8))))
    #expect(json.cniMember("cniArgs")?.cniArray?.first == .array([.string("IgnoreUnknown"), .string("1")]))
    #expect(json.cniMember("capabilityArgs")?.rendered() == #"{"portMappings":[{"hostPort":1,"containerPort":2,"protocol":"tcp"}]}"#)
    #expect(json.cniMember("result")?.cniMember("ips")?.cniArray?.count == 3)

    let read = try #require(try cache.read(networkName: "my-net", containerID: "abc123", ifName: "eth0"))
    #expect(read.config.bytes == network.bytes)
    #expect(read.config.plugins == network.plugins)
    #expect(read.result?.podIPs == ["10.85.0.4", "fd00:85::4"])
    #expect(read.cniArgs.map(\.0) == pod.cniArgs.map(\.0))
    #expect(read.capabilityArgs == entry.capabilityArgs)
    #expect(cache.entries(containerID: "abc123", ifName: "eth0").map(\.networkName) == ["my-net"])
    #expect(cache.entries(containerID: "123", ifName: "eth0").isEmpty)

    try cache.remove(networkName: "my-net", containerID: "abc123", ifName: "eth0")
    try cache.remove(networkName: "my-net", containerID: "abc123", ifName: "eth0")
    #expect(try cache.read(networkName: "my-net", containerID: "abc123", ifName: "eth0") == nil)
  }

  /// A file as libcni (Go) writes it: config as base64, result as an object.
  @Test func readsAFileWrittenByLibcni() throws {
    let dir = try Files.makeTemporaryDirectory(prefix: "crio-cni-cache")
    defer { Files.removeTree(dir) }
    let config = #"{"cniVersion":"0.4.0","name":"crio","plugins":[{"type":"bridge","bridge":"cni0"},{"type":"portmap","capabilities":{"portMappings":true}}]}"#
    try Files.makeDirectories(dir + "/results", mode: 0o700)
    try Files.write(dir + "/results/crio-f00d-eth0", """
      {"kind":"cniCacheV1","containerId":"f00d","config":"\(Base64.encode(Array(config.utf8)))","ifName":"eth0","networkName":"crio",\
      "cniArgs":[["IgnoreUnknown","1"],["K8S_POD_NAMESPACE","default"]],"capabilityArgs":{"portMappings":[{"hostPort":80,"containerPort":8080,"protocol":"tcp","hostIP":""}]},\
      "result":{"cniVersion":"0.4.0","interfaces":[{"name":"eth0","sandbox":"/var/run/netns/a"}],"ips":[{"version":"4","interface":0,"address":"10.85.0.9/16","gateway":"10.85.0.1"}],"dns":{}}}
      """)
    let entry = try #require(try CNIResultCache(dir: dir).read(networkName: "crio", containerID: "f00d", ifName: "eth0"))
    #expect(entry.config.bytes == config)
    #expect(entry.config.plugins.map(\.type) == ["bridge", "portmap"])
    #expect(entry.result?.podIPs == ["10.85.0.9"])
    #expect(entry.cniArgs.count == 2)
    #expect(entry.capabilityArgs.cniMember("portMappings")?.cniArray?.count == 1)
  }

  @Test func aCorruptFileIsAnError() throws {
    let dir = try Files.makeTemporaryDirectory(prefix: "crio-cni-cache")
    defer { Files.removeTree(dir) }
    try Files.makeDirectories(dir + "/results", mode: 0o700)
    try Files.write(dir + "/results/n-c-eth0", "{")
    #expect(throws: CNIError.self) { try CNIResultCache(dir: dir).read(networkName: "n", containerID: "c", ifName: "eth0") }
  }
}
