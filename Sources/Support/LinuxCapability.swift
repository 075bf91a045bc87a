#if canImport(Glibc)
import Glibc
#endif

/// Linux capability names by bit (linux/capability.h up to CAP_CHECKPOINT_RESTORE).
public enum LinuxCapability {
  /// "CAP_..." names; the index is the capability's bit.
  public static let names: [String] = [
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
    "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
    "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
    "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
  ]

  private static let bits: [String: Int] = Dictionary(
    uniqueKeysWithValues: names.enumerated().map { ($0.element, $0.offset) })

  /// The bit of a "CAP_X" name.
  public static func bit(of name: String) -> Int? { bits[prefixedName(name)] }

  /// "net_raw", "NET_RAW" and "cap_net_raw" give "CAP_NET_RAW"; unknown names give nil.
  public static func canonicalName(_ name: String) -> String? {
    let prefixed = prefixedName(name)
    return bits[prefixed] == nil ? nil : prefixed
  }

  /// Upper case with a "CAP_" prefix, known or not.
  public static func prefixedName(_ name: String) -> String {
    let upper = name.uppercased()
    return upper.hasPrefix("CAP_") ? upper : "CAP_" + upper
  }

  /// Kernel bit order; unknown names last, alphabetically.
  public static func sorted<S: Sequence<String>>(_ names: S) -> [String] {
    names.sorted { (bits[$0] ?? Int.max, $0) < (bits[$1] ?? Int.max, $1) }
  }

  /// The names of the bits set in a capability mask such as /proc's
  /// "000001fffeffffff"; bits this table has no name for are left out.
  public static func names(inHexMask hex: String) -> [String]? {
    let digits = hex.filter { $0 != " " && $0 != "\t" }
    guard !digits.isEmpty, digits.count <= 16, let mask = UInt64(digits, radix: 16) else { return nil }
    return names.enumerated().filter { mask & (1 << UInt64($0.offset)) != 0 }.map(\.element)
  }

  /// The `CapBnd:` line of a /proc/<pid>/status text, as names.
  public static func boundingSet(fromProcStatus status: String) -> [String]? {
    for line in status.split(separator: "\n") where line.hasPrefix("CapBnd:") {
      return names(inHexMask: String(line.dropFirst("CapBnd:".count)))
    }
    return nil
  }

  /// This process's bounding set (from /proc/self/status); every known
  /// capability when it cannot be read.
  public static func currentBoundingSet() -> [String] {
    guard let status = try? Files.read("/proc/self/status"), let set = boundingSet(fromProcStatus: status) else {
      return names
    }
    return set
  }
}
