import Support
import OCI

/// A seccomp profile in the Docker / containers-common file format: a
/// template whose rules may be conditioned on the container's capabilities,
/// the host architecture and the kernel version. `resolve` turns it into the
/// runtime-spec form (`Spec.Seccomp`) for one container.
public struct SeccompProfile: Sendable, Hashable {
  public var defaultAction: SeccompAction
  public var defaultErrnoRet: UInt32?
  /// The legacy flat list; a profile has this or `archMap`, not both.
  public var architectures: [String]
  public var archMap: [ArchitectureMapping]
  public var flags: [String]
  public var syscalls: [SyscallRule]

  public init(
    defaultAction: SeccompAction, defaultErrnoRet: UInt32? = nil, architectures: [String] = [],
    archMap: [ArchitectureMapping] = [], flags: [String] = [], syscalls: [SyscallRule] = []
  ) {
    self.defaultAction = defaultAction
    self.defaultErrnoRet = defaultErrnoRet
    self.architectures = architectures
    self.archMap = archMap
    self.flags = flags
    self.syscalls = syscalls
  }

  /// A native architecture and the sub-architectures allowed with it.
  public struct ArchitectureMapping: Sendable, Hashable {
    /// e.g. "SCMP_ARCH_X86_64".
    public var architecture: String
    public var subArchitectures: [String]
    public init(architecture: String, subArchitectures: [String]) {
      self.architecture = architecture
      self.subArchitectures = subArchitectures
    }
  }

  /// One rule of the template.
  public struct SyscallRule: Sendable, Hashable {
    public var names: [String]
    public var action: SeccompAction
    public var errnoRet: UInt32?
    public var args: [Spec.SyscallArg]
    /// Every condition here must hold for the rule to be kept.
    public var includes: RuleFilter
    /// Any condition here that holds drops the rule.
    public var excludes: RuleFilter

    public init(
      names: [String], action: SeccompAction, errnoRet: UInt32? = nil, args: [Spec.SyscallArg] = [],
      includes: RuleFilter = RuleFilter(), excludes: RuleFilter = RuleFilter()
    ) {
      self.names = names
      self.action = action
      self.errnoRet = errnoRet
      self.args = args
      self.includes = includes
      self.excludes = excludes
    }

    /// Names separated by white space: the compact form of the built-in table.
    init(
      names: String, action: SeccompAction, errnoRet: UInt32? = nil, args: [Spec.SyscallArg] = [],
      includes: RuleFilter = RuleFilter(), excludes: RuleFilter = RuleFilter()
    ) {
      self.init(
        names: names.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init), action: action,
        errnoRet: errnoRet, args: args, includes: includes, excludes: excludes)
    }
  }

  /// Conditions on a rule (moby's `Filter`).
  public struct RuleFilter: Sendable, Hashable {
    /// "CAP_..." names, compared with the container's bounding set.
    public var caps: [String]
    /// libseccomp native names: "amd64", "arm64", "x86", "s390x"…
    public var arches: [String]
    public var minKernel: KernelVersion?
    public init(caps: [String] = [], arches: [String] = [], minKernel: KernelVersion? = nil) {
      self.caps = caps
      self.arches = arches
      self.minKernel = minKernel
    }
    public var isEmpty: Bool { caps.isEmpty && arches.isEmpty && minKernel == nil }
  }

  /// The runtime-spec profile for a container, filtered as moby's
  /// `setupSeccomp` does: `architectures` from the `archMap` entry of the
  /// host's native architecture; a rule is dropped when an `excludes`
  /// condition holds (its arch is the host's, any of its caps is in
  /// `capabilities`, the kernel is at least its minKernel) or an `includes`
  /// condition fails (the host arch is not listed, any of its caps is missing,
  /// the kernel is older or unknown).
  ///
  /// - Parameter capabilities: the container's bounding set, "CAP_X" or "X",
  ///   any case.
  public func resolve(
    architecture: SeccompArchitecture, capabilities: [String], kernel: KernelVersion?
  ) -> Spec.Seccomp {
    let caps = Set(capabilities.map(LinuxCapability.prefixedName))
    var archs = architectures
    if let scmp = architecture.scmpArchitecture, let entry = archMap.first(where: { $0.architecture == scmp }) {
      archs.append(entry.architecture)
      archs.append(contentsOf: entry.subArchitectures)
    }

    var rules: [Spec.Syscall] = []
    for rule in syscalls {
      let ex = rule.excludes
      if ex.arches.contains(architecture.nativeName) { continue }
      if ex.caps.contains(where: { caps.contains($0) }) { continue }
      if let minimum = ex.minKernel, let kernel, kernel >= minimum { continue }

      let inc = rule.includes
      if !inc.arches.isEmpty && !inc.arches.contains(architecture.nativeName) { continue }
      if inc.caps.contains(where: { !caps.contains($0) }) { continue }
      if let minimum = inc.minKernel {
        guard let kernel, kernel >= minimum else { continue }
      }
      rules.append(
        Spec.Syscall(
          names: rule.names, action: rule.action.rawValue, errnoRet: rule.errnoRet,
          args: rule.args.isEmpty ? nil : rule.args))
    }
    return Spec.Seccomp(
      defaultAction: defaultAction.rawValue, defaultErrnoRet: defaultErrnoRet,
      architectures: archs.isEmpty ? nil : archs, flags: flags.isEmpty ? nil : flags, syscalls: rules)
  }
}

/// A seccomp action ("SCMP_ACT_...").
public struct SeccompAction: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
  public let rawValue: String
  public init(rawValue: String) { self.rawValue = rawValue }
  public var description: String { rawValue }

  public static let kill = SeccompAction(rawValue: "SCMP_ACT_KILL")
  public static let killProcess = SeccompAction(rawValue: "SCMP_ACT_KILL_PROCESS")
  public static let killThread = SeccompAction(rawValue: "SCMP_ACT_KILL_THREAD")
  public static let trap = SeccompAction(rawValue: "SCMP_ACT_TRAP")
  public static let errno = SeccompAction(rawValue: "SCMP_ACT_ERRNO")
  public static let trace = SeccompAction(rawValue: "SCMP_ACT_TRACE")
  public static let allow = SeccompAction(rawValue: "SCMP_ACT_ALLOW")
  public static let log = SeccompAction(rawValue: "SCMP_ACT_LOG")
  public static let notify = SeccompAction(rawValue: "SCMP_ACT_NOTIFY")

  /// The actions runc accepts in a profile this daemon writes
  /// (SCMP_ACT_NOTIFY needs a listener socket, which is not supported).
  public static let supported: Set<SeccompAction> = [
    .kill, .killProcess, .killThread, .trap, .errno, .trace, .allow, .log,
  ]
}

/// The host architecture as seccomp profiles name it.
public struct SeccompArchitecture: Sendable, Hashable, CustomStringConvertible {
  /// libseccomp's native name, used by `includes.arches`: "amd64", "arm64"…
  public var nativeName: String
  /// e.g. "SCMP_ARCH_X86_64"; nil for a machine this table does not know.
  public var scmpArchitecture: String?

  public init(nativeName: String, scmpArchitecture: String?) {
    self.nativeName = nativeName
    self.scmpArchitecture = scmpArchitecture
  }

  public var description: String { nativeName }

  public static let x86_64 = SeccompArchitecture(nativeName: "amd64", scmpArchitecture: "SCMP_ARCH_X86_64")
  public static let aarch64 = SeccompArchitecture(nativeName: "arm64", scmpArchitecture: "SCMP_ARCH_AARCH64")
  public static let x86 = SeccompArchitecture(nativeName: "x86", scmpArchitecture: "SCMP_ARCH_X86")
  public static let arm = SeccompArchitecture(nativeName: "arm", scmpArchitecture: "SCMP_ARCH_ARM")
  public static let ppc64le = SeccompArchitecture(nativeName: "ppc64le", scmpArchitecture: "SCMP_ARCH_PPC64LE")
  public static let s390x = SeccompArchitecture(nativeName: "s390x", scmpArchitecture: "SCMP_ARCH_S390X")
  public static let riscv64 = SeccompArchitecture(nativeName: "riscv64", scmpArchitecture: "SCMP_ARCH_RISCV64")
  public static let loongarch64 = SeccompArchitecture(
    nativeName: "loongarch64", scmpArchitecture: "SCMP_ARCH_LOONGARCH64")

  /// From `uname -m` ("x86_64", "aarch64"…); an unknown machine keeps its
  /// name and gets no SCMP architecture (the runtime then allows only the
  /// native one).
  public init(machine: String) {
    switch machine {
    case "x86_64", "amd64": self = .x86_64
    case "aarch64", "arm64": self = .aarch64
    case "i386", "i486", "i586", "i686", "x86": self = .x86
    case "armv6l", "armv7l", "armv8l", "arm": self = .arm
    case "ppc64le": self = .ppc64le
    case "s390x": self = .s390x
    case "riscv64": self = .riscv64
    case "loongarch64", "loong64": self = .loongarch64
    default: self.init(nativeName: machine, scmpArchitecture: nil)
    }
  }

  /// This machine's architecture.
  public static var host: SeccompArchitecture {
    SeccompArchitecture(machine: HostInfo.uname?.machine ?? "")
  }
}

/// A kernel's version and major revision ("6.18" of "6.18.44-fc"), what a
/// profile's `minKernel` compares.
public struct KernelVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
  public var kernel: UInt
  public var major: UInt
  public init(kernel: UInt, major: UInt) {
    self.kernel = kernel
    self.major = major
  }

  /// "3.12.25-gentoo", "3.12-1-amd64" and "3.12" all give 3.12; nil when
  /// the text does not start with two dot-separated numbers.
  public init?(release: String) {
    let digits = { (s: Substring) -> Substring in s.prefix(while: { $0.isASCII && $0.isNumber }) }
    let parts = release.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false)
    guard parts.count >= 2 else { return nil }
    let first = digits(parts[0])
    let second = digits(parts[1])
    // "3.12" exactly at the start: the first part is all digits.
    guard first.count == parts[0].count, let k = UInt(first), let m = UInt(second) else { return nil }
    self.init(kernel: k, major: m)
  }

  public var description: String { "\(kernel).\(major)" }

  public static func < (a: KernelVersion, b: KernelVersion) -> Bool {
    (a.kernel, a.major) < (b.kernel, b.major)
  }

  /// The running kernel's, from uname(2).
  public static var current: KernelVersion? {
    HostInfo.uname.flatMap { KernelVersion(release: $0.release) }
  }
}
