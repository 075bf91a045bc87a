#if canImport(Glibc)
import Glibc
#endif
@testable import PodNetwork
import Support
import Testing

@Suite struct CNIConfigTests {
  func withDirectory(_ body: (String) throws -> Void) throws {
    let dir = try Files.makeTemporaryDirectory(prefix: "crio-cni-conf")
    defer { Files.removeTree(dir) }
    try body(dir)
  }

  static let bridgeList = #"{"cniVersion":"1.0.0","name":"alpha","plugins":[{"type":"bridge","bridge":"cni0","mtu":1450.0,"x":{"y":[1,2]}},{"type":"portmap","capabilities":{"portMappings":true,"bandwidth":false}}]}"#

  @Test func parsesAListKeepingEveryKey() throws {
    let network = try CNINetworkConfig(listJSON: Self.bridgeList, file: "/x/10.conflist")
    #expect(network.name == "alpha")
    #expect(network.cniVersion == "1.0.0")
    #expect(network.plugins.map(\.type) == ["bridge", "portmap"])
    #expect(network.plugins[1].capabilities == ["portMappings"])
    #expect(network.plugins[0].raw.rendered() == #"{"type":"bridge","bridge":"cni0","mtu":1450.0,"x":{"y":[1,2]}}"#)
    #expect(network.bytes == Self.bridgeList)
    #expect(!network.disableCheck)
  }

  @Test func wrapsASinglePluginConfig() throws {
    let text = #"{"cniVersion":"0.3.1","name":"single","type":"ptp","ipam":{"type":"host-local","subnet":"10.1.0.0/16"}}"#
    let network = try CNINetworkConfig(fileContents: text, file: "/x/20-single.conf")
    #expect(network.name == "single")
    #expect(network.cniVersion == "0.3.1")
    #expect(network.plugins.count == 1)
    #expect(network.plugins[0].type == "ptp")
    #expect(network.plugins[0].raw.rendered() == text)
    // The list libcni would build; it reads back as the same network.
    let again = try CNINetworkConfig(listJSON: network.bytes)
    #expect(again.plugins == network.plugins)
    #expect(again.name == "single")
  }

  @Test(arguments: [
    ("{", "invalid JSON"),
    ("[]", "not a JSON object"),
    (#"{"cniVersion":"1.0.0","plugins":[{"type":"bridge"}]}"#, "no \"name\""),
    (#"{"name":"a","plugins":[{"type":"bridge"}]}"#, "no \"cniVersion\""),
    (#"{"name":"a","cniVersion":"one","plugins":[{"type":"bridge"}]}"#, "invalid cniVersion"),
    (#"{"name":"a","cniVersion":"1.0.0"}"#, "no \"plugins\" key"),
    (#"{"name":"a","cniVersion":"1.0.0","plugins":[]}"#, "\"plugins\" is empty"),
    (#"{"name":"a","cniVersion":"1.0.0","plugins":{}}"#, "\"plugins\" is not an array"),
    (#"{"name":"a","cniVersion":"1.0.0","plugins":[{"bridge":"x"}]}"#, "plugin 1 has no \"type\""),
    (#"{"name":"a","cniVersion":"1.0.0","plugins":[{"type":"../../bin/sh"}]}"#, "invalid type"),
    (#"{"name":"a/b","cniVersion":"1.0.0","plugins":[{"type":"bridge"}]}"#, "invalid network name"),
  ])
  func rejectsInvalidLists(text: String, reason: String) throws {
    #expect {
      try CNINetworkConfig(listJSON: text, file: "/x/bad.conflist")
    } throws: { error in
      guard case .invalidConfig(let file, let why) = error as? CNIError else { return false }
      return file == "/x/bad.conflist" && why.contains(reason)
    }
  }

  @Test func singleConfigNeedsAType() throws {
    #expect(throws: CNIError.invalidConfig(file: "/x/a.conf", reason: "plugin 1 has no \"type\"")) {
      try CNINetworkConfig(fileContents: #"{"cniVersion":"0.4.0","name":"a"}"#, file: "/x/a.conf")
    }
  }

  @Test func aListInAConfFileIsSkippedAsOcicniDoes() {
    #expect(throws: CNIError.invalidConfig(file: "/x/a.conf", reason: "no \"type\"; perhaps this is a .conflist?")) {
      try CNINetworkConfig(fileContents: #"{"cniVersion":"1.0.0","name":"a","plugins":[{"type":"bridge"}]}"#, file: "/x/a.conf")
    }
  }

  @Test func loadsInLexicalOrderAndSkipsInvalidFilesWithReasons() throws {
    try withDirectory { dir in
      try Files.write(dir + "/20-b.conflist", #"{"cniVersion":"1.0.0","name":"b","plugins":[{"type":"bridge"}]}"#)
      try Files.write(dir + "/10-a.conf", #"{"cniVersion":"0.4.0","name":"a","type":"ptp"}"#)
      try Files.write(dir + "/05-broken.conflist", "{not json")
      try Files.write(dir + "/30-c.json", #"{"cniVersion":"1.0.0","name":"c","type":"macvlan"}"#)
      try Files.write(dir + "/40-dup.conflist", #"{"cniVersion":"1.0.0","name":"a","plugins":[{"type":"bridge"}]}"#)
      try Files.write(dir + "/99-ignored.txt", "whatever")
      try Files.write(dir + "/.hidden.conf", "{}")
      try Files.makeDirectories(dir + "/50-dir.conf", mode: 0o755)

      let set = CNIConfigDirectory.load(dir: dir)
      #expect(set.networks.map(\.name) == ["a", "b", "c"])
      #expect(set.networks.map(\.file) == [dir + "/10-a.conf", dir + "/20-b.conflist", dir + "/30-c.json"])
      #expect(set.defaultNetwork?.name == "a")
      #expect(set.ready)
      #expect(set.notReadyReason == nil)
      #expect(set.problems.map(\.file) == [dir + "/05-broken.conflist", dir + "/40-dup.conflist"])
      #expect(set.problems[0].reason.contains("invalid JSON"))
      #expect(set.problems[1].reason.contains("already defined by \(dir)/10-a.conf"))
      // Configured directories end in "/" (CRI-O's defaults do).
      #expect(CNIConfigDirectory.load(dir: dir + "/").networks.map(\.file) == set.networks.map(\.file))
    }
  }

  @Test func picksTheDefaultNetworkByName() throws {
    try withDirectory { dir in
      try Files.write(dir + "/10-a.conflist", #"{"cniVersion":"1.0.0","name":"a","plugins":[{"type":"bridge"}]}"#)
      try Files.write(dir + "/20-b.conflist", #"{"cniVersion":"1.0.0","name":"b","plugins":[{"type":"bridge"}]}"#)
      #expect(CNIConfigDirectory.load(dir: dir, defaultName: "b").defaultNetwork?.name == "b")
      let missing = CNIConfigDirectory.load(dir: dir, defaultName: "zzz")
      #expect(!missing.ready)
      #expect(missing.notReadyReason?.contains("\"zzz\"") == true)
      #expect(missing.notReadyReason?.contains("a, b") == true)
    }
  }

  @Test func notReadyWithoutConfigurationOrWithMissingPlugins() throws {
    try withDirectory { dir in
      let nothing = CNIConfigDirectory.load(dir: dir + "/absent")
      #expect(!nothing.ready)
      #expect(nothing.notReadyReason == "No CNI configuration file in \(dir)/absent. Has your network provider started?")

      try Files.write(dir + "/10-x.conflist", #"{"cniVersion":"1.0.0","name":"x","plugins":[{"type":"bridge"},{"type":"no-such-plugin"}]}"#)
      let plugins = CNIPlugins(dirs: [dir + "/bin", CNITestBed.debianPlugins])
      let set = CNIConfigDirectory.load(dir: dir, plugins: plugins)
      #expect(!set.ready)
      #expect(set.problems == [CNIConfigIssue(file: dir + "/10-x.conflist", reason: "plugin no-such-plugin not found in \(dir)/bin, /usr/lib/cni")])
      #expect(set.notReadyReason?.contains("no-such-plugin not found") == true)
      // Without plugin checks the network loads.
      #expect(CNIConfigDirectory.load(dir: dir).ready)
    }
  }

  @Test func watcherPicksUpAConfigurationInstalledLater() throws {
    try withDirectory { dir in
      let watcher = CNIConfigWatcher(
        networkDir: dir + "/net.d", plugins: CNIPlugins(dirs: [CNITestBed.debianPlugins]), interval: .milliseconds(50))
      #expect(!watcher.current().ready)
      // The directory itself appears later (an inotify watch could not have been set).
      try Files.makeDirectories(dir + "/net.d", mode: 0o755)
      try Files.write(dir + "/net.d/10-crio.conflist", CNIDefaultConfig.conflist())
      // Rate limited: within the interval the old state stands...
      #expect(!watcher.current().ready)
      usleep(80_000)
      // ...after it, the new file counts.
      #expect(watcher.current().ready)
      #expect(watcher.current().defaultNetwork?.name == "crio")
      unlink(dir + "/net.d/10-crio.conflist")
      #expect(!watcher.reload().ready)
    }
  }

  @Test func defaultConflistIsCRIOsBridgeWithPortmap() throws {
    let network = try CNINetworkConfig(listJSON: CNIDefaultConfig.conflist())
    #expect(network.name == "crio")
    #expect(network.cniVersion == "1.0.0")
    #expect(network.plugins.map(\.type) == ["bridge", "portmap"])
    let bridge = network.plugins[0].raw
    #expect(bridge.cniMember("bridge") == .string("cni0"))
    #expect(bridge.cniMember("isGateway") == .bool(true))
    #expect(bridge.cniMember("ipMasq") == .bool(true))
    #expect(bridge.cniMember("ipam")?.cniMember("type") == .string("host-local"))
    #expect(bridge.cniMember("ipam")?.cniMember("ranges")?.rendered() == #"[[{"subnet":"10.85.0.0/16"}]]"#)
    #expect(bridge.cniMember("ipam")?.cniMember("routes")?.rendered() == #"[{"dst":"0.0.0.0/0"}]"#)
    #expect(network.plugins[1].capabilities == ["portMappings"])
    #expect(CNIPlugins(dirs: [CNITestBed.debianPlugins]).missing(in: network).isEmpty)
  }

  @Test func installsTheDefaultOnlyIntoAnEmptyDirectory() throws {
    try withDirectory { dir in
      let netd = dir + "/net.d"
      #expect(try CNIDefaultConfig.installIfMissing(dir: netd) == netd + "/10-crio-bridge.conflist")
      #expect(CNIConfigDirectory.load(dir: netd).defaultNetwork?.name == "crio")
      // Already there: nothing written.
      #expect(try CNIDefaultConfig.installIfMissing(dir: netd) == nil)

      let other = dir + "/other"
      try Files.makeDirectories(other, mode: 0o755)
      try Files.write(other + "/05-mine.conf", "{broken")
      #expect(try CNIDefaultConfig.installIfMissing(dir: other) == nil)
      #expect(Files.kind(of: other + "/10-crio-bridge.conflist") == .missing)
    }
  }

  @Test func findsPluginsInOrderOfDirectories() throws {
    try withDirectory { dir in
      try Files.makeDirectories(dir + "/a", mode: 0o755)
      try Files.makeDirectories(dir + "/b", mode: 0o755)
      try Files.write(dir + "/a/tool", "#!/bin/sh\n", mode: 0o644)  // not executable
      try Files.write(dir + "/b/tool", "#!/bin/sh\n", mode: 0o755)
      let plugins = CNIPlugins(dirs: [dir + "/a", dir + "/b"])
      #expect(plugins.find("tool") == dir + "/b/tool")
      #expect(plugins.find("../b/tool") == nil)
      #expect(plugins.find("absent") == nil)
      #expect(plugins.cniPath == "\(dir)/a:\(dir)/b")
    }
  }
}
