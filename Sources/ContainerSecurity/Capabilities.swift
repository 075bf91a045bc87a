import OCI
import Support

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
  static func prefixedName(_ name: String) -> String {
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

/// Why a container's capabilities cannot be computed.
public enum CapabilityError: Error, Sendable, Equatable, CustomStringConvertible {
  /// `field` is "default_capabilities", "add_capabilities"…
  case unknown(String, field: String)
  /// Asked for by name but absent from the daemon's bounding set: the
  /// runtime could not grant it.
  case notInBoundingSet(String)
  case ambientNotSupported

  public var description: String {
    switch self {
    case .unknown(let name, let field):
      "\(field): unknown capability \(String(reflecting: name))"
    case .notInBoundingSet(let name):
      "capability \(name) is not in the bounding set of the daemon, so a container cannot be given it"
    case .ambientNotSupported:
      "add_ambient_capabilities is not supported"
    }
  }
}

/// A container's capabilities, computed the way CRI-O does.
public struct CapabilitySet: Sendable, Hashable {
  /// "CAP_..." names in kernel bit order.
  public let names: [String]

  public init<S: Sequence<String>>(names: S) {
    self.names = LinuxCapability.sorted(Set(names))
  }

  /// CRI-O's `default_capabilities`.
  public static let criODefaults: [String] = [
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE", "CAP_KILL",
  ]

  public func contains(_ name: String) -> Bool { names.contains(LinuxCapability.prefixedName(name)) }

  /// CRI-O's rules (SpecSetupCapabilities / SetupPrivileged):
  /// - privileged: the daemon's whole bounding set;
  /// - otherwise the defaults, unless "ALL" is added or dropped; "ALL" added
  ///   gives the bounding set, "ALL" dropped empties the set (both: empty);
  ///   then the named additions, then the named drops.
  ///
  /// Names may have the "CAP_" prefix or not, in any case. Defaults missing
  /// from the bounding set are left out quietly; a named addition missing
  /// from it is an error (the runtime would fail to grant it). An unknown
  /// name to add, or an unknown default, is an error; dropping an unknown
  /// name drops nothing, as in CRI-O.
  ///
  /// - Parameter bounding: the daemon's bounding set ("CAP_..." names).
  public static func compute(
    defaults: [String] = criODefaults, add: [String] = [], drop: [String] = [], addAmbient: [String] = [],
    privileged: Bool = false, bounding: [String] = LinuxCapability.currentBoundingSet()
  ) throws(CapabilityError) -> CapabilitySet {
    var available: Set<String> = []
    for name in bounding {
      if let canonical = LinuxCapability.canonicalName(name) { available.insert(canonical) }
    }
    if privileged { return CapabilitySet(names: available) }
    if !addAmbient.isEmpty { throw .ambientNotSupported }

    let isAll = { (name: String) in name.uppercased() == "ALL" }
    let addAll = add.contains(where: isAll)
    let dropAll = drop.contains(where: isAll)

    var set: Set<String> = []
    if !addAll && !dropAll {
      for name in defaults {
        guard let canonical = LinuxCapability.canonicalName(name) else {
          throw .unknown(name, field: "default_capabilities")
        }
        if available.contains(canonical) { set.insert(canonical) }
      }
    }
    if addAll { set = available }
    if dropAll { set.removeAll() }
    for name in add where !isAll(name) {
      guard let canonical = LinuxCapability.canonicalName(name) else {
        throw .unknown(name, field: "add_capabilities")
      }
      guard available.contains(canonical) else { throw .notInBoundingSet(canonical) }
      set.insert(canonical)
    }
    for name in drop where !isAll(name) {
      if let canonical = LinuxCapability.canonicalName(name) { set.remove(canonical) }
    }
    return CapabilitySet(names: set)
  }

  /// The runtime-spec form: the set in bounding, effective and permitted
  /// (runc keeps effective/permitted for a non-root user only as far as the
  /// kernel's rules for setuid allow); inheritable and ambient empty
  /// (CVE-2022-27652; Kubernetes expects a non-root user to lose them).
  public var ociCapabilities: Spec.Capabilities {
    Spec.Capabilities(bounding: names, effective: names, inheritable: [], permitted: names, ambient: [])
  }
}
