import Support

/// Why an AppArmor profile or SELinux label cannot be applied.
public enum LSMError: Error, Sendable, Equatable, CustomStringConvertible {
  case appArmorDisabled(profile: String)
  case invalidAppArmorProfile(String)
  case selinuxDisabled(label: String)
  case invalidSELinuxOption(field: String, value: String)

  public var description: String {
    switch self {
    case .appArmorDisabled(let profile):
      "AppArmor is not enabled on this host; profile \(String(reflecting: profile)) cannot be applied"
    case .invalidAppArmorProfile(let text):
      "invalid AppArmor profile \(String(reflecting: text)): expected \"runtime/default\", \"unconfined\" or \"localhost/<name>\""
    case .selinuxDisabled(let label):
      "SELinux is not enabled on this host; label \(String(reflecting: label)) cannot be applied"
    case .invalidSELinuxOption(let field, let value):
      "invalid SELinux \(field) \(String(reflecting: value))"
    }
  }
}

/// What the CRI asks of AppArmor (the deprecated string field or the
/// structured `SecurityProfile`).
public enum AppArmorRequest: Sendable, Hashable {
  case runtimeDefault
  case unconfined
  /// A loaded profile's name.
  case localhost(String)

  /// "" and "runtime/default" are the runtime default, "unconfined", and
  /// "localhost/<name>".
  public init(parsing text: String) throws(LSMError) {
    switch text {
    case "", "runtime/default": self = .runtimeDefault
    case "unconfined": self = .unconfined
    default:
      guard text.hasPrefix("localhost/"), text.count > "localhost/".count else { throw .invalidAppArmorProfile(text) }
      self = try .localhost(name: String(text.dropFirst("localhost/".count)))
    }
  }

  /// A structured localhost_ref ("name" or "localhost/name").
  public static func localhost(name: String) throws(LSMError) -> AppArmorRequest {
    let trimmed = name.hasPrefix("localhost/") ? String(name.dropFirst("localhost/".count)) : name
    guard !trimmed.isEmpty, !trimmed.contains(where: { $0.isNewline || $0 == "\0" }) else {
      throw .invalidAppArmorProfile(name)
    }
    return .localhost(trimmed)
  }
}

/// An SELinux context's parts, as in CRI's SELinuxOption.
public struct SELinuxOptions: Sendable, Hashable {
  public var user: String
  public var role: String
  public var type: String
  /// May itself contain ":" ("s0:c1,c2").
  public var level: String
  public init(user: String = "", role: String = "", type: String = "", level: String = "") {
    self.user = user
    self.role = role
    self.type = type
    self.level = level
  }
  public var isEmpty: Bool { user.isEmpty && role.isEmpty && type.isEmpty && level.isEmpty }
}

/// Which Linux security modules the host enforces.
public struct LinuxSecurityModules: Sendable, Hashable {
  public var appArmorEnabled: Bool
  public var selinuxEnabled: Bool

  public init(appArmorEnabled: Bool, selinuxEnabled: Bool) {
    self.appArmorEnabled = appArmorEnabled
    self.selinuxEnabled = selinuxEnabled
  }

  /// CRI-O's default AppArmor profile name.
  public static let defaultAppArmorProfile = "crio-default"

  /// SELinux's default process context for containers (container-selinux).
  public static let defaultSELinuxContext = SELinuxOptions(
    user: "system_u", role: "system_r", type: "container_t", level: "s0")

  /// AppArmor: /sys/module/apparmor/parameters/enabled reads "Y".
  /// SELinux: selinuxfs is mounted (/sys/fs/selinux/enforce exists).
  /// `root` lets tests point at a fake tree.
  public static func detect(root: String = "") -> LinuxSecurityModules {
    let appArmor = (try? Files.read(root + "/sys/module/apparmor/parameters/enabled"))?.hasPrefix("Y") ?? false
    let selinux = HostInfo.exists(root + "/sys/fs/selinux/enforce")
    return LinuxSecurityModules(appArmorEnabled: appArmor, selinuxEnabled: selinux)
  }

  /// `process.apparmorProfile` for a request: nil when AppArmor is off and
  /// the request is the runtime default or unconfined (nothing to apply);
  /// a localhost profile on a host without AppArmor is an error.
  public func appArmorProfile(
    for request: AppArmorRequest, defaultProfile: String = LinuxSecurityModules.defaultAppArmorProfile
  ) throws(LSMError) -> String? {
    switch request {
    case .runtimeDefault:
      return appArmorEnabled ? defaultProfile : nil
    case .unconfined:
      return appArmorEnabled ? "unconfined" : nil
    case .localhost(let name):
      guard appArmorEnabled else { throw .appArmorDisabled(profile: "localhost/" + name) }
      return name
    }
  }

  /// `process.selinuxLabel` ("user:role:type:level") for CRI SELinux
  /// options: nil when none are given; empty parts come from `defaults`.
  /// Options on a host without SELinux are an error.
  public func selinuxLabel(
    _ options: SELinuxOptions, defaults: SELinuxOptions = LinuxSecurityModules.defaultSELinuxContext
  ) throws(LSMError) -> String? {
    guard !options.isEmpty else { return nil }
    for (field, value) in [("user", options.user), ("role", options.role), ("type", options.type)]
    where value.contains(where: { $0 == ":" || $0.isWhitespace || $0 == "\0" }) {
      throw .invalidSELinuxOption(field: field, value: value)
    }
    if options.level.contains(where: { $0.isWhitespace || $0 == "\0" }) {
      throw .invalidSELinuxOption(field: "level", value: options.level)
    }
    let pick = { (value: String, fallback: String) in value.isEmpty ? fallback : value }
    let label = [
      pick(options.user, defaults.user), pick(options.role, defaults.role), pick(options.type, defaults.type),
      pick(options.level, defaults.level),
    ].joined(separator: ":")
    guard selinuxEnabled else { throw .selinuxDisabled(label: label) }
    return label
  }
}
