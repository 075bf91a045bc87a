#if canImport(Glibc)
import Glibc
#endif
@testable import PodNetwork
import Support
import Testing

/// A private corner of the host for one CNI test: a temporary directory, a
/// network namespace, a bridge name and a /24 of its own, so tests run in
/// parallel; `withCNITestBed` removes all of it even when the test fails.
struct CNITestBed {
  let dir: String
  let tag: String
  let netnsName: String
  let bridge: String
  /// "10.X.Y" of a 10.X.Y.0/24 subnet.
  let subnetPrefix: String

  var netnsPath: String { "/var/run/netns/" + netnsName }
  var subnet: String { subnetPrefix + ".0/24" }
  var dataDir: String { dir + "/ipam" }
  var cacheDir: String { dir + "/cache" }

  static let debianPlugins = "/usr/lib/cni"

  init() throws {
    dir = try Files.makeTemporaryDirectory(prefix: "crio-cni-test")
    let random = UInt32.random(in: 0..<0xFFFFFF)
    tag = String(random, radix: 16)
    netnsName = "cni-test-" + tag
    bridge = "cnit" + tag
    subnetPrefix = "10.\(200 + Int(random % 50)).\(Int(random >> 8) % 256)"
  }

  func pod(_ name: String = "web", ifName: String = "eth0") -> CNIPodInfo {
    CNIPodInfo(namespace: "default", name: name, id: "sandbox" + tag, uid: "uid-" + tag, ifName: ifName)
  }

  /// bridge + host-local (+ portmap) with this bed's names.
  func bridgeConflist(name: String? = nil, version: String = "1.0.0", ipMasq: Bool = false, gateway: Bool = false, portmap: Bool = false) -> String {
    var plugins = """
      {"type": "bridge", "bridge": "\(bridge)", "isGateway": \(gateway), "ipMasq": \(ipMasq),
       "ipam": {"type": "host-local", "dataDir": "\(dataDir)", "ranges": [[{"subnet": "\(subnet)"}]],
                "routes": [{"dst": "0.0.0.0/0"}]}}
      """
    if portmap {
      plugins += #", {"type": "portmap", "capabilities": {"portMappings": true}, "snat": true}"#
    }
    return #"{"cniVersion": "\#(version)", "name": "\#(name ?? "net" + tag)", "plugins": [\#(plugins)]}"#
  }

  func runtime(pluginDirs: [String] = [CNITestBed.debianPlugins], timeout: Duration = .seconds(60)) -> CNIRuntime {
    CNIRuntime(plugins: CNIPlugins(dirs: pluginDirs), cacheDir: cacheDir, timeout: timeout)
  }

  func makeNetns() async throws {
    let result = try await Processes.run("/usr/sbin/ip", ["netns", "add", netnsName])
    #expect(result.status == 0, "ip netns add: \(result.stderr)")
  }

  func removeNetns() async {
    _ = try? await Processes.run("/usr/sbin/ip", ["netns", "del", netnsName])
  }

  /// Addresses host-local still has allocated (its files named by IP).
  func allocatedIPs(network: String) -> [String] {
    ((try? Files.list(dataDir + "/" + network)) ?? []).filter { $0.first?.isNumber == true }
  }

  /// Host interfaces enslaved to this bed's bridge (the pods' veths).
  func bridgePorts() async throws -> [String] {
    let result = try await Processes.run("/usr/sbin/ip", ["-o", "link", "show", "master", bridge])
    guard result.status == 0 else { return [] }
    return result.stdout.split(separator: "\n").map(String.init)
  }

  func interfacesInNetns() async throws -> String {
    try await Processes.run("/usr/sbin/ip", ["-n", netnsName, "-o", "addr"]).stdout
  }

  /// Undoes whatever a failed test left attached (DEL from the cache, while
  /// the namespace still exists), then removes the namespace, bridge and files.
  func cleanUp() async {
    for pod in [pod()] {
      try? await runtime(pluginDirs: [CNITestBed.debianPlugins, dir + "/plugins"])
        .delete(network: nil, pod: pod, netnsPath: netnsPath)
    }
    await removeNetns()
    _ = try? await Processes.run("/usr/sbin/ip", ["link", "del", bridge])
    Files.removeTree(dir)
  }

  /// A shell script plugin in `<dir>/plugins/<name>`.
  func scriptPlugin(_ name: String, _ body: String) throws -> String {
    try Files.makeDirectories(dir + "/plugins", mode: 0o755)
    let path = dir + "/plugins/" + name
    try Files.write(path, "#!/bin/sh\n" + body + "\n", mode: 0o755)
    return dir + "/plugins"
  }
}

func withCNITestBed(_ body: (CNITestBed) async throws -> Void) async throws {
  let bed = try CNITestBed()
  try await withCleanUp({ try await body(bed) }, cleanUp: { await bed.cleanUp() })
}

func iptablesNat() async throws -> [String] {
  let result = try await Processes.run("/usr/sbin/iptables", ["-w", "-t", "nat", "-S"])
  return result.stdout.split(separator: "\n").map(String.init)
}
