import Foundation
import Runtime
import Support
import Testing

@Suite struct CgroupStatsTests {
  static let v1MemoryStat = """
    cache 9887744
    rss 6852608
    pgfault 100
    pgmajfault 1
    inactive_file 61440
    hierarchical_memory_limit 9223372036854771712
    total_cache 1375543296
    total_rss 13897728
    total_pgfault 301584108
    total_pgmajfault 84503
    total_inactive_file 513654784
    total_active_file 718671872

    """

  static let v2MemoryStat = """
    anon 4096000
    file 8192000
    kernel 1024
    inactive_anon 0
    active_anon 4096000
    inactive_file 6000000
    active_file 2192000
    pgfault 5000
    pgmajfault 7

    """

  /// A v1 hierarchy with cpu,cpuacct co-mounted, memory and pids.
  static func v1Tree(_ tree: CgroupFixtureTree, path: String = "crio/crio-1") throws -> CgroupLayout {
    try tree.write("cpu,cpuacct/\(path)/cpuacct.usage", "123456789\n")
    try tree.write("memory/\(path)/memory.usage_in_bytes", "600000000\n")
    try tree.write("memory/\(path)/memory.stat", v1MemoryStat)
    try tree.write("memory/\(path)/memory.limit_in_bytes", "1073741824\n")
    try tree.write("memory/\(path)/memory.memsw.usage_in_bytes", "600004096\n")
    try tree.write("memory/\(path)/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n")
    try tree.write("pids/\(path)/pids.current", "4\n")
    try tree.write("pids/\(path)/pids.max", "max\n")
    return .v1(controllerMounts: [
      "cpu": tree.root + "/cpu,cpuacct", "cpuacct": tree.root + "/cpu,cpuacct", "memory": tree.root + "/memory",
      "pids": tree.root + "/pids",
    ])
  }

  @Test func readsV1() throws {
    let tree = try CgroupFixtureTree()
    defer { tree.remove() }
    let layout = try Self.v1Tree(tree)
    let before = CgroupStats.now()
    let stats = try CgroupStats(layout: layout).read(relativePath: "/crio/crio-1")
    #expect(stats.timestamp >= before && stats.timestamp <= CgroupStats.now())
    #expect(stats.cpuUsageCoreNanoSeconds == 123_456_789)
    #expect(stats.memoryUsageBytes == 600_000_000)
    #expect(stats.memoryWorkingSetBytes == 600_000_000 - 513_654_784)
    #expect(stats.memoryRSSBytes == 13_897_728)
    #expect(stats.pageFaults == 301_584_108)
    #expect(stats.majorPageFaults == 84503)
    #expect(stats.memoryLimitBytes == 1_073_741_824)
    #expect(stats.memoryAvailableBytes == 1_073_741_824 - (600_000_000 - 513_654_784))
    #expect(stats.swapUsageBytes == 4096)
    #expect(stats.oomKillCount == 3)
    #expect(stats.pidsCurrent == 4)
    #expect(stats.pidsLimit == nil)
    #expect(stats.cpuSample == CPUUsageSample(timestamp: stats.timestamp, usageCoreNanoSeconds: 123_456_789))
  }

  @Test func v1UnlimitedMemoryAndMissingFiles() throws {
    let tree = try CgroupFixtureTree()
    defer { tree.remove() }
    // Only memory exists for this cgroup; the limit is v1's "no limit".
    try tree.write("memory/pod/memory.usage_in_bytes", "1000\n")
    try tree.write("memory/pod/memory.limit_in_bytes", "9223372036854771712\n")
    try tree.makeDirectory("cpuacct")
    let layout = CgroupLayout.v1(controllerMounts: [
      "cpuacct": tree.root + "/cpuacct", "memory": tree.root + "/memory",
    ])
    let stats = try CgroupStats(layout: layout).read(relativePath: "pod")
    #expect(stats.memoryUsageBytes == 1000)
    #expect(stats.memoryWorkingSetBytes == 1000)  // no memory.stat: nothing to subtract
    #expect(stats.memoryLimitBytes == nil)
    #expect(stats.memoryAvailableBytes == nil)
    #expect(stats.cpuUsageCoreNanoSeconds == nil)
    #expect(stats.pidsCurrent == nil)
    #expect(stats.rssAndFaultsAreNil)
    #expect(stats.oomKillCount == nil)
    #expect(stats.swapUsageBytes == nil)
  }

  @Test func readsV2() throws {
    let tree = try CgroupFixtureTree()
    defer { tree.remove() }
    let path = "kubepods.slice/kubepods-pod1.slice/crio-1.scope"
    try tree.write("\(path)/cpu.stat", "usage_usec 2500\nuser_usec 2000\nsystem_usec 500\nnr_periods 0\n")
    try tree.write("\(path)/memory.current", "10000000\n")
    try tree.write("\(path)/memory.stat", Self.v2MemoryStat)
    try tree.write("\(path)/memory.max", "12000000\n")
    try tree.write("\(path)/memory.swap.current", "8192\n")
    try tree.write("\(path)/memory.events", "low 0\nhigh 0\nmax 4\noom 2\noom_kill 1\noom_group_kill 0\n")
    try tree.write("\(path)/pids.current", "2\n")
    try tree.write("\(path)/pids.max", "1024\n")
    let stats = try CgroupStats(layout: .v2(root: tree.root)).read(relativePath: "/" + path)
    #expect(stats.cpuUsageCoreNanoSeconds == 2_500_000)
    #expect(stats.memoryUsageBytes == 10_000_000)
    #expect(stats.memoryWorkingSetBytes == 4_000_000)
    #expect(stats.memoryRSSBytes == 4_096_000)
    #expect(stats.pageFaults == 5000)
    #expect(stats.majorPageFaults == 7)
    #expect(stats.memoryLimitBytes == 12_000_000)
    #expect(stats.memoryAvailableBytes == 8_000_000)
    #expect(stats.swapUsageBytes == 8192)
    #expect(stats.oomKillCount == 1)
    #expect(stats.pidsCurrent == 2)
    #expect(stats.pidsLimit == 1024)
  }

  @Test func v2UnlimitedAndWorkingSetFloor() throws {
    let tree = try CgroupFixtureTree()
    defer { tree.remove() }
    try tree.write("c/memory.current", "5000\n")
    try tree.write("c/memory.stat", "anon 1000\ninactive_file 9000\n")
    try tree.write("c/memory.max", "max\n")
    let stats = try CgroupStats(layout: .v2(root: tree.root)).read(relativePath: "c")
    #expect(stats.memoryWorkingSetBytes == 0)
    #expect(stats.memoryLimitBytes == nil)
    #expect(stats.memoryAvailableBytes == nil)
    #expect(stats.cpuUsageCoreNanoSeconds == nil)
    #expect(stats.oomKillCount == nil)
  }

  @Test func missingCgroupIsNotFound() throws {
    let tree = try CgroupFixtureTree()
    defer { tree.remove() }
    let v1 = try Self.v1Tree(tree)
    #expect(throws: CgroupError.notFound(path: "/crio/crio-2")) {
      try CgroupStats(layout: v1).read(relativePath: "crio/crio-2")
    }
    #expect(throws: CgroupError.notFound(path: "/gone")) {
      try CgroupStats(layout: .v2(root: tree.root)).read(relativePath: "/gone")
    }
    #expect(throws: CgroupError.self) { try CgroupStats(layout: v1).read(relativePath: "/crio/../..") }
    #expect(v1.cgroupExists(relativePath: "/crio/crio-1"))
    #expect(!v1.cgroupExists(relativePath: "/crio/crio-2"))
    #expect(!v1.cgroupExists(relativePath: "/crio/../crio"))
  }

  @Test(arguments: [
    (UInt64(1000), UInt64?(400), UInt64(600)),
    (1000, nil, 1000),
    (1000, 1000, 0),
    (1000, 5000, 0),
    (0, 0, 0),
  ])
  func workingSet(usage: UInt64, inactive: UInt64?, expected: UInt64) {
    #expect(CgroupStats.workingSet(usage: usage, inactiveFile: inactive) == expected)
  }

  @Test func parsesNumbers() {
    #expect(CgroupStats.parseNumber("42\n") == 42)
    #expect(CgroupStats.parseNumber("max\n") == nil)
    #expect(CgroupStats.parseNumber("-1") == nil)
    #expect(CgroupStats.parseNumber("") == nil)
    #expect(
      CgroupStats.parseKeyedNumbers("a 1\nb  2\nbad\nc x\nd 3 4\n\ne 18446744073709551615\n")
        == ["a": 1, "b": 2, "e": UInt64.max])
  }
}

extension ContainerCgroupStats {
  fileprivate var rssAndFaultsAreNil: Bool { memoryRSSBytes == nil && pageFaults == nil && majorPageFaults == nil }
}

@Suite struct CPUUsageRateTests {
  @Test func nanoCoresFromTwoSamples() {
    let first = CPUUsageSample(timestamp: 1_000_000_000, usageCoreNanoSeconds: 5_000_000_000)
    // 1.5 s of CPU in 2 s of wall time: 0.75 cores.
    let second = CPUUsageSample(timestamp: 3_000_000_000, usageCoreNanoSeconds: 6_500_000_000)
    #expect(CPUUsageSample.nanoCores(from: first, to: second) == 750_000_000)
    // Four busy cores for 10 ms.
    let busy = CPUUsageSample(timestamp: 3_010_000_000, usageCoreNanoSeconds: 6_540_000_000)
    #expect(CPUUsageSample.nanoCores(from: second, to: busy) == 4_000_000_000)
    // No time passed, time went back, or the counter went back: no rate.
    #expect(CPUUsageSample.nanoCores(from: second, to: second) == nil)
    #expect(CPUUsageSample.nanoCores(from: second, to: first) == nil)
    let reset = CPUUsageSample(timestamp: 4_000_000_000, usageCoreNanoSeconds: 10)
    #expect(CPUUsageSample.nanoCores(from: second, to: reset) == nil)
    // Large counters do not overflow: 10^12 s of CPU over 10^6 s.
    let huge0 = CPUUsageSample(timestamp: 0, usageCoreNanoSeconds: 0)
    let huge1 = CPUUsageSample(timestamp: 1_000_000 * 1_000_000_000, usageCoreNanoSeconds: 10_000_000_000_000_000_000)
    #expect(CPUUsageSample.nanoCores(from: huge0, to: huge1) == 10_000_000_000_000)
  }

  @Test func rateTrackerKeepsThePreviousSample() {
    var rate = CPUUsageRate()
    #expect(rate.record(CPUUsageSample(timestamp: 0, usageCoreNanoSeconds: 0)) == nil)
    #expect(rate.peek(CPUUsageSample(timestamp: 1_000_000_000, usageCoreNanoSeconds: 250_000_000)) == 250_000_000)
    #expect(rate.record(CPUUsageSample(timestamp: 1_000_000_000, usageCoreNanoSeconds: 500_000_000)) == 500_000_000)
    // A stale sample changes nothing.
    #expect(rate.record(CPUUsageSample(timestamp: 500_000_000, usageCoreNanoSeconds: 0)) == nil)
    #expect(rate.last == CPUUsageSample(timestamp: 1_000_000_000, usageCoreNanoSeconds: 500_000_000))
    #expect(rate.record(CPUUsageSample(timestamp: 3_000_000_000, usageCoreNanoSeconds: 2_500_000_000)) == 1_000_000_000)
  }
}

@Suite struct NetworkStatsTests {
  static let netDev = """
    Inter-|   Receive                                                |  Transmit
     face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
        lo: 3040423910  194815    0    0    0     0          0         0 3040423910  194815    0    0    0     0       0          0
      eth1:100 2 3 4 0 0 0 0 200 5 6 7 0 0 0 0
      eth0: 121656196    2412    1    2    0     0          0         0   112543    1546    3    4    0     0       0          0
    """

  @Test func parsesNetDev() {
    let interfaces = NetworkStats.parse(Self.netDev)
    #expect(interfaces.map(\.name) == ["lo", "eth1", "eth0"])
    #expect(
      interfaces[2]
        == InterfaceStats(
          name: "eth0", rxBytes: 121_656_196, rxPackets: 2412, rxErrors: 1, rxDropped: 2, txBytes: 112_543,
          txPackets: 1546, txErrors: 3, txDropped: 4))
    #expect(
      interfaces[1]
        == InterfaceStats(
          name: "eth1", rxBytes: 100, rxPackets: 2, rxErrors: 3, rxDropped: 4, txBytes: 200, txPackets: 5, txErrors: 6,
          txDropped: 7))
    #expect(NetworkStats.primary(interfaces)?.name == "eth0")
    #expect(NetworkStats.nonLoopback(interfaces).map(\.name) == ["eth1", "eth0"])
    #expect(NetworkStats.primary(interfaces.filter { $0.name != "eth0" })?.name == "eth1")
    #expect(NetworkStats.primary(interfaces.filter { $0.name == "lo" }) == nil)
    let total = NetworkStats.total(interfaces)
    #expect(total.rxBytes == 121_656_296)
    #expect(total.txErrors == 9)
  }

  @Test func readsOwnNamespace() throws {
    let interfaces = try NetworkStats.read(pid: getpid())
    #expect(interfaces.contains { $0.name == "lo" })
    #expect(throws: SystemError.self) { try NetworkStats.read(pid: Int32.max) }
  }
}
