import FoundationEssentials
import OCI

/// How runc maps runtime-spec (v1-style) resources onto cgroup v2 files.
public enum CgroupConversions {
  /// cpu.shares (2...262144) to cpu.weight (1...10000), runc's linear
  /// mapping: 2 → 1, 1024 → 39, 262144 → 10000. 0 means unset and stays 0.
  public static func cpuWeight(fromShares shares: UInt64) -> UInt64 {
    if shares == 0 { return 0 }
    let clamped = min(max(shares, 2), 262_144)
    return 1 + ((clamped - 2) * 9999) / 262_142
  }

  /// cpu.max from CFS quota and period: "max 100000" without a quota (nil or
  /// negative), "<quota> <period>" otherwise; the period defaults to 100 ms.
  public static func cpuMax(quota: Int64?, period: UInt64?) -> String {
    let period = period.flatMap { $0 == 0 ? nil : $0 } ?? 100_000
    guard let quota, quota > 0 else { return "max \(period)" }
    return "\(quota) \(period)"
  }

  /// memory.swap.max from the runtime-spec's `swap`, which (as on v1's
  /// memory.memsw.limit_in_bytes) counts memory plus swap. -1 is "max", 0
  /// "unset"; an unlimited memory with unset swap gives unlimited swap.
  /// Mirrors runc's ConvertMemorySwapToCgroupV2Value.
  public static func memorySwapV2(swap: Int64, memory: Int64) throws(CgroupError) -> Int64 {
    if memory == -1 && swap == 0 { return -1 }
    if swap == -1 || swap == 0 { return swap }
    if memory == 0 || memory == -1 {
      throw .invalidResources("a swap limit needs a memory limit")
    }
    if memory < 0 { throw .invalidResources("invalid memory limit \(memory)") }
    if swap < memory { throw .invalidResources("memory+swap limit (\(swap)) must be >= memory limit (\(memory))") }
    return swap - memory
  }

  /// Files of the v2 core a `unified` entry must never write: they move or
  /// kill processes or change the tree, which is the runtime's job.
  public static let forbiddenUnifiedKeys: Set<String> = [
    "cgroup.procs", "cgroup.threads", "cgroup.subtree_control", "cgroup.kill", "cgroup.type",
  ]

  /// Checks `linux.resources.unified`: only on cgroup v2; each key a file
  /// name "<controller>.<name>" (no "/", no "..", no spaces or control
  /// characters); values one line.
  public static func validateUnified(_ unified: [String: String], version: CgroupVersion) throws(CgroupError) {
    guard !unified.isEmpty else { return }
    guard version == .v2 else {
      throw .invalidUnified(key: unified.keys.sorted()[0], reason: "unified resources need cgroup v2")
    }
    for (key, value) in unified.sorted(by: { $0.key < $1.key }) {
      try validateUnifiedKey(key)
      if value.unicodeScalars.contains(where: { $0 == "\n" || $0 == "\r" || $0 == "\0" }) {
        throw .invalidUnified(key: key, reason: "the value must be a single line")
      }
    }
  }

  static func validateUnifiedKey(_ key: String) throws(CgroupError) {
    guard !key.isEmpty else { throw .invalidUnified(key: key, reason: "empty key") }
    if key.contains("/") { throw .invalidUnified(key: key, reason: "must be a file name (no \"/\")") }
    if key.contains("..") { throw .invalidUnified(key: key, reason: "\"..\" is not allowed") }
    let allowed = key.unicodeScalars.allSatisfy { scalar in
      switch scalar {
      case "a"..."z", "A"..."Z", "0"..."9", ".", "_", "-": true
      default: false
      }
    }
    guard allowed else { throw .invalidUnified(key: key, reason: "only letters, digits, \".\", \"_\" and \"-\"") }
    guard let dot = key.firstIndex(of: "."), dot != key.startIndex, key.index(after: dot) != key.endIndex else {
      throw .invalidUnified(key: key, reason: "must be \"<controller>.<file>\", like \"memory.high\"")
    }
    if forbiddenUnifiedKeys.contains(key) {
      throw .invalidUnified(key: key, reason: "the runtime manages this file")
    }
  }
}

/// The input of `runc update --resources <file|->`: the runtime-spec's
/// LinuxResources JSON (runc applies memory, cpu, pids, blockIO and unified;
/// it ignores devices).
public enum RuncUpdate {
  public static func json(resources: Spec.Resources) -> [UInt8] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    // Encoding a struct of strings and integers cannot fail.
    return (try? Array(encoder.encode(resources))) ?? Array("{}".utf8)
  }
}
