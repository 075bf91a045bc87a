import Support

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One reading of a container's (or pod's) cgroup, in the units CRI stats
/// use. A field is nil when its file is missing (controller not enabled or
/// not mounted, older kernel).
public struct ContainerCgroupStats: Sendable, Hashable {
  /// When the files were read: nanoseconds since the Unix epoch.
  public var timestamp: Int64
  /// Cumulative CPU time of all the cgroup's tasks, in nanoseconds.
  public var cpuUsageCoreNanoSeconds: UInt64?
  /// Memory charged to the cgroup (page cache included).
  public var memoryUsageBytes: UInt64?
  /// Usage minus inactive file pages, floored at 0: what kubelet evicts on.
  public var memoryWorkingSetBytes: UInt64?
  /// Anonymous memory (v1 total_rss, v2 anon).
  public var memoryRSSBytes: UInt64?
  /// limit − working set, floored at 0; nil without a limit.
  public var memoryAvailableBytes: UInt64?
  /// The memory limit; nil when unlimited.
  public var memoryLimitBytes: UInt64?
  public var pageFaults: UInt64?
  public var majorPageFaults: UInt64?
  /// Swap in use (v1 memsw.usage − usage, v2 memory.swap.current).
  public var swapUsageBytes: UInt64?
  /// Tasks (threads) in the cgroup.
  public var pidsCurrent: UInt64?
  /// The pids limit; nil when unlimited.
  public var pidsLimit: UInt64?
  /// How often the kernel's OOM killer killed a task of this cgroup.
  public var oomKillCount: UInt64?

  public init(timestamp: Int64) {
    self.timestamp = timestamp
  }

  /// The CPU part as a sample for usage rates.
  public var cpuSample: CPUUsageSample? {
    cpuUsageCoreNanoSeconds.map { CPUUsageSample(timestamp: timestamp, usageCoreNanoSeconds: $0) }
  }
}

/// Reads cgroup statistics files (v1 or v2, per the layout).
public struct CgroupStats: Sendable {
  public let layout: CgroupLayout

  public init(layout: CgroupLayout) {
    self.layout = layout
  }

  /// Reads the cgroup at `relativePath` of the host's hierarchy.
  public static func read(relativePath: String) throws(CgroupError) -> ContainerCgroupStats {
    try CgroupStats(layout: try CgroupLayout.current()).read(relativePath: relativePath)
  }

  /// Reads the cgroup at `relativePath` (inside the hierarchy, e.g.
  /// "/crio/crio-<id>"). Throws `.notFound` when the cgroup does not exist.
  public func read(relativePath: String) throws(CgroupError) -> ContainerCgroupStats {
    let path = try CgroupPath.normalize(relativePath)
    guard layout.cgroupExists(normalizedPath: path) else { throw .notFound(path: path) }
    var stats = ContainerCgroupStats(timestamp: Self.now())
    switch layout.version {
    case .v1: try readV1(path, into: &stats)
    case .v2: try readV2(path, into: &stats)
    }
    // Gone while reading: the nils above mean nothing.
    guard layout.cgroupExists(normalizedPath: path) else { throw .notFound(path: path) }
    return stats
  }

  private func readV1(_ path: String, into stats: inout ContainerCgroupStats) throws(CgroupError) {
    func file(_ controller: String, _ name: String) throws(CgroupError) -> String? {
      try layout.directory(for: path, controller: controller).map { $0 + "/" + name }
    }
    stats.cpuUsageCoreNanoSeconds = try Self.number(file("cpuacct", "cpuacct.usage"))

    let usage = try Self.number(file("memory", "memory.usage_in_bytes"))
    let memoryStat = try Self.keyedNumbers(file("memory", "memory.stat"))
    stats.memoryUsageBytes = usage
    stats.memoryRSSBytes = memoryStat?["total_rss"] ?? memoryStat?["rss"]
    stats.pageFaults = memoryStat?["total_pgfault"] ?? memoryStat?["pgfault"]
    stats.majorPageFaults = memoryStat?["total_pgmajfault"] ?? memoryStat?["pgmajfault"]
    stats.memoryWorkingSetBytes = usage.map {
      Self.workingSet(usage: $0, inactiveFile: memoryStat?["total_inactive_file"] ?? memoryStat?["inactive_file"])
    }
    if let limit = try Self.number(file("memory", "memory.limit_in_bytes")), limit < Self.v1UnlimitedThreshold {
      stats.memoryLimitBytes = limit
    }
    if let usage, let memsw = try Self.number(file("memory", "memory.memsw.usage_in_bytes")) {
      stats.swapUsageBytes = memsw > usage ? memsw - usage : 0
    }
    stats.oomKillCount = try Self.keyedNumbers(file("memory", "memory.oom_control"))?["oom_kill"]

    stats.pidsCurrent = try Self.number(file("pids", "pids.current"))
    stats.pidsLimit = try Self.number(file("pids", "pids.max"))
    stats.memoryAvailableBytes = Self.available(limit: stats.memoryLimitBytes, workingSet: stats.memoryWorkingSetBytes)
  }

  private func readV2(_ path: String, into stats: inout ContainerCgroupStats) throws(CgroupError) {
    guard let directory = try layout.directory(for: path, controller: "") else { return }
    func file(_ name: String) -> String { directory + "/" + name }
    if let usec = Self.keyedNumbers(file("cpu.stat"))?["usage_usec"] {
      stats.cpuUsageCoreNanoSeconds = usec.multipliedReportingOverflow(by: 1000).partialValue
    }
    let usage = Self.number(file("memory.current"))
    let memoryStat = Self.keyedNumbers(file("memory.stat"))
    stats.memoryUsageBytes = usage
    stats.memoryRSSBytes = memoryStat?["anon"]
    stats.pageFaults = memoryStat?["pgfault"]
    stats.majorPageFaults = memoryStat?["pgmajfault"]
    stats.memoryWorkingSetBytes = usage.map { Self.workingSet(usage: $0, inactiveFile: memoryStat?["inactive_file"]) }
    stats.memoryLimitBytes = Self.number(file("memory.max"))
    stats.swapUsageBytes = Self.number(file("memory.swap.current"))
    stats.oomKillCount = Self.keyedNumbers(file("memory.events"))?["oom_kill"]
    stats.pidsCurrent = Self.number(file("pids.current"))
    stats.pidsLimit = Self.number(file("pids.max"))
    stats.memoryAvailableBytes = Self.available(limit: stats.memoryLimitBytes, workingSet: stats.memoryWorkingSetBytes)
  }

  /// v1 writes "no limit" as the largest page-aligned int64
  /// (9223372036854771712 with 4 KiB pages); anything this large is no limit.
  static let v1UnlimitedThreshold: UInt64 = 1 << 62

  /// Working set as cAdvisor and kubelet compute it: usage − inactive file
  /// pages, never below 0.
  public static func workingSet(usage: UInt64, inactiveFile: UInt64?) -> UInt64 {
    guard let inactiveFile else { return usage }
    return usage > inactiveFile ? usage - inactiveFile : 0
  }

  static func available(limit: UInt64?, workingSet: UInt64?) -> UInt64? {
    guard let limit, let workingSet else { return nil }
    return limit > workingSet ? limit - workingSet : 0
  }

  /// Nanoseconds since the Unix epoch.
  public static func now() -> Int64 {
    var time = timespec()
    clock_gettime(CLOCK_REALTIME, &time)
    return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
  }

  // MARK: - file parsing

  /// The file's text, or nil when it cannot be read.
  static func contents(_ path: String?) -> String? {
    guard let path else { return nil }
    return try? Files.read(path)
  }

  /// A file holding one number; nil when missing or "max".
  static func number(_ path: String?) -> UInt64? {
    contents(path).flatMap(parseNumber)
  }

  /// `key value` lines (memory.stat, cpu.stat, memory.events, memory.oom_control).
  static func keyedNumbers(_ path: String?) -> [String: UInt64]? {
    contents(path).map(parseKeyedNumbers)
  }

  /// One number; "max" (no limit) and anything unreadable are nil. A
  /// negative number (v1 writes -1 for "no limit" in some files) is nil too.
  public static func parseNumber(_ text: String) -> UInt64? {
    UInt64(text.trimmed)
  }

  /// `key value` lines; lines that are not a key and a number are skipped.
  public static func parseKeyedNumbers(_ text: String) -> [String: UInt64] {
    var values: [String: UInt64] = [:]
    for line in text.split(separator: "\n") {
      let fields = line.split(separator: " ", omittingEmptySubsequences: true)
      guard fields.count == 2, let value = UInt64(fields[1]) else { continue }
      values[String(fields[0])] = value
    }
    return values
  }
}

extension CgroupLayout {
  /// Whether the cgroup at `relativePath` exists: on v2 its directory, on v1
  /// its directory in any of the hierarchies.
  public func cgroupExists(relativePath: String) -> Bool {
    guard let path = try? CgroupPath.normalize(relativePath) else { return false }
    return cgroupExists(normalizedPath: path)
  }

  func cgroupExists(normalizedPath path: String) -> Bool {
    hierarchyMounts.contains { mount in
      Files.kind(of: path == "/" ? mount : mount + path) == .directory
    }
  }
}
