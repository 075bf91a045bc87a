import OCI
import Support

/// Why a container's capabilities cannot be computed.
public enum CapabilityError: Error, Sendable, Equatable, CustomStringConvertible {
  /// `field` is "default_capabilities", "add_capabilities"…
  case unknown(String, field: String)
  /// Asked for by name but absent from the daemon's bounding set: the
  /// runtime could not grant it.
  case notInBoundingSet(String)

  public var description: String {
    switch self {
    case .unknown(let name, let field):
      "\(field): unknown capability \(String(reflecting: name))"
    case .notInBoundingSet(let name):
      "capability \(name) is not in the bounding set of the daemon, so a container cannot be given it"
    }
  }
}

/// A container's capabilities, computed the way CRI-O does.
public struct CapabilitySet: Sendable, Hashable {
  /// "CAP_..." names in kernel bit order.
  public let names: [String]
  /// Kept across exec by a non-root process too (`add_ambient_capabilities`).
  public let ambient: [String]

  public init<S: Sequence<String>>(names: S, ambient: [String] = []) {
    self.names = LinuxCapability.sorted(Set(names))
    self.ambient = LinuxCapability.sorted(Set(ambient))
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
    // Ambient ones must also be permitted (and inheritable, see below).
    var ambient: [String] = []
    for name in addAmbient {
      guard let canonical = LinuxCapability.canonicalName(name) else {
        throw .unknown(name, field: "add_ambient_capabilities")
      }
      guard available.contains(canonical) else { throw .notInBoundingSet(canonical) }
      set.insert(canonical)
      ambient.append(canonical)
    }
    return CapabilitySet(names: set, ambient: ambient)
  }

  /// The runtime-spec form: the set in bounding, effective and permitted
  /// (runc keeps effective/permitted for a non-root user only as far as the
  /// kernel's rules for setuid allow); inheritable empty (CVE-2022-27652;
  /// Kubernetes expects a non-root user to lose them) but for the ambient
  /// ones, which the kernel keeps only when they are inheritable too.
  public var ociCapabilities: Spec.Capabilities {
    Spec.Capabilities(bounding: names, effective: names, inheritable: ambient, permitted: names, ambient: ambient)
  }
}
