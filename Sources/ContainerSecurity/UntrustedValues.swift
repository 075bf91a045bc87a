/// Why a value from a request, an image or a config file was refused.
public enum UntrustedValueError: Error, Sendable, Equatable, CustomStringConvertible {
  case invalidID(field: String, value: Int64)
  case controlCharacter(field: String, value: String)
  case invalidPath(field: String, value: String, reason: String)
  case unknownAllowedAnnotation(String)

  public var description: String {
    switch self {
    case .invalidID(let field, let value):
      "\(field) \(value) is not a valid ID (0...4294967294)"
    case .controlCharacter(let field, let value):
      "\(field) \(String(reflecting: value)) contains a control character or \":\""
    case .invalidPath(let field, let value, let reason):
      "\(field) \(String(reflecting: value)) \(reason)"
    case .unknownAllowedAnnotation(let name):
      "invalid allowed_annotations entry \(String(reflecting: name)): not an annotation CRI-O knows"
    }
  }
}

/// Checks for values the daemon must not pass on as they come.
public enum UntrustedValues {
  /// A uid or gid from the CRI (int64) as the runtime's uint32. Negative
  /// values and values above 2^32−2 are refused: 4294967295 is (uid_t)−1,
  /// which setresuid(2) takes as "leave unchanged", so a process would keep
  /// running as root.
  public static func id(_ value: Int64, field: String) throws(UntrustedValueError) -> UInt32 {
    guard let id = UInt32(exactly: value), id != UInt32.max else { throw .invalidID(field: field, value: value) }
    return id
  }

  /// A field of an /etc/passwd or /etc/group line (a user or group name, a
  /// home directory, a shell): no control characters (newlines, NUL…),
  /// no DEL and no ":" — any of them would forge or break lines.
  public static func passwdField(_ value: String, field: String) throws(UntrustedValueError) -> String {
    if value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f || $0 == ":" }) {
      throw .controlCharacter(field: field, value: value)
    }
    return value
  }

  /// True when `value` has a C0 control character or DEL.
  public static func containsControlCharacters(_ value: String) -> Bool {
    value.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7f }
  }

  /// An image's volume (or any in-container mount point): absolute, no ".."
  /// component, no NUL; returned cleaned ("//a/./b/" gives "/a/b"). "/" is
  /// refused: a volume cannot cover the root.
  public static func volumePath(_ value: String, field: String = "image volume") throws(UntrustedValueError)
    -> String
  {
    guard value.hasPrefix("/") else { throw .invalidPath(field: field, value: value, reason: "is not absolute") }
    guard !value.utf8.contains(0) else { throw .invalidPath(field: field, value: value, reason: "contains a NUL byte") }
    var components: [Substring] = []
    for component in value.split(separator: "/") where component != "." {
      if component == ".." { throw .invalidPath(field: field, value: value, reason: "contains \"..\"") }
      components.append(component)
    }
    guard !components.isEmpty else { throw .invalidPath(field: field, value: value, reason: "is the root") }
    return "/" + components.joined(separator: "/")
  }
}

/// CRI-O's `allowed_annotations`: of the annotations CRI-O acts on, only
/// those a runtime handler (or workload) allows are kept; every other
/// annotation whose key starts with a restricted one is removed before the
/// daemon looks at it. Annotations CRI-O does not act on pass untouched.
public struct AnnotationAllowList: Sendable, Hashable {
  /// The restricted annotations that stay forbidden.
  public let disallowed: [String]

  /// Refuses names CRI-O does not know (its "invalid allowed_annotation").
  public init(allowed: [String]) throws(UntrustedValueError) {
    let known = Set(Self.restrictedAnnotations)
    for name in allowed where !known.contains(name) { throw .unknownAllowedAnnotation(name) }
    let allowedSet = Set(allowed)
    disallowed = Self.restrictedAnnotations.filter { !allowedSet.contains($0) }
  }

  /// Whether an annotation key may be used.
  public func permits(_ key: String) -> Bool {
    !disallowed.contains { key.hasPrefix($0) }
  }

  /// `annotations` without the forbidden keys.
  public func filter(_ annotations: [String: String]) -> [String: String] {
    annotations.filter { permits($0.key) }
  }

  /// CRI-O's AllAllowedAnnotations: runc/crun ones, the current
  /// `*.crio.io` names and the deprecated `io.kubernetes.cri-o.*` ones.
  public static let restrictedAnnotations: [String] = [
    // Runtime ones.
    "io.kubernetes.cri.rdt-class", "bundle", "org.systemd.property.", "org.criu.config",
    "module.wasm.image/variant", "io.kubernetes.cri.container-type", "run.oci.",
    // Current names.
    "cgroup2-mount-hierarchy-rw.crio.io", "cpu-c-states.crio.io", "cpu-freq-governor.crio.io",
    "cpu-load-balancing.crio.io", "cpu-quota.crio.io", "cpu-shared.crio.io", "devices.crio.io",
    "disable-fips.crio.io", "irq-load-balancing.crio.io", "link-logs.crio.io", "io.containers.trace-syscall",
    "platform-runtime-path.crio.io", "pod-linux-overhead.crio.io", "pod-linux-resources.crio.io",
    "seccomp-notifier-action.crio.io", "seccomp-profile.crio.io", "shm-size.crio.io", "spoofed.crio.io",
    "org.opencontainers.image.stopSignal", "try-skip-volume-selinux-label.crio.io", "umask.crio.io",
    "unified-cgroup.crio.io", "userns-mode.crio.io",
    // Deprecated names.
    "io.kubernetes.cri-o.cgroup2-mount-hierarchy-rw", "io.kubernetes.cri-o.Devices",
    "io.kubernetes.cri-o.DisableFIPS", "io.kubernetes.cri-o.LinkLogs", "io.kubernetes.cri-o.PlatformRuntimePath",
    "io.kubernetes.cri-o.PodLinuxOverhead", "io.kubernetes.cri-o.PodLinuxResources",
    "io.kubernetes.cri-o.seccompNotifierAction", "seccomp-profile.kubernetes.cri-o.io",
    "io.kubernetes.cri-o.ShmSize", "io.kubernetes.cri-o.Spoofed", "io.kubernetes.cri-o.TrySkipVolumeSELinuxLabel",
    "io.kubernetes.cri-o.umask", "io.kubernetes.cri-o.UnifiedCgroup", "io.kubernetes.cri-o.userns-mode",
  ]
}
