import OCI

/// A CDI spec file (container-device-interface SPEC.md): the devices of one
/// vendor and class and the edits each makes to a container's OCI spec.
public struct CDISpec: Sendable, Equatable {
  public var version: String
  public var vendor: String
  public var deviceClass: String
  /// Edits for every container that gets any device of this spec.
  public var containerEdits: CDIContainerEdits
  /// By name, in file order.
  public var devices: [(name: String, edits: CDIContainerEdits)]

  /// The versions the CDI library of CRI-O 1.26 (v0.5.3) reads.
  public static let versions: Set<String> = ["0.1.0", "0.2.0", "0.3.0", "0.4.0", "0.5.0"]

  public static func == (lhs: CDISpec, rhs: CDISpec) -> Bool {
    lhs.version == rhs.version && lhs.vendor == rhs.vendor && lhs.deviceClass == rhs.deviceClass
      && lhs.containerEdits == rhs.containerEdits && lhs.devices.map(\.name) == rhs.devices.map(\.name)
      && lhs.devices.map(\.edits) == rhs.devices.map(\.edits)
  }

  /// Reads and checks a spec (YAML or JSON) as the CDI library does: a
  /// known version, a valid kind, valid device names, each device with
  /// some edits and named once, and valid edits.
  public init(parsing bytes: [UInt8]) throws(YAMLError) {
    guard let root = try YAMLNode.parse(bytes) else { throw YAMLError("no spec data") }
    let fields = try YAMLFields(root, at: "spec", known: ["cdiVersion", "kind", "devices", "containerEdits"])
    version = try fields.string("cdiVersion") ?? ""
    guard Self.versions.contains(version) else { throw YAMLError("invalid cdiVersion \(String(reflecting: version))") }
    let kind = try fields.string("kind") ?? ""
    guard let (vendor, deviceClass) = CDIDeviceName.kind(kind) else {
      throw YAMLError("invalid kind \(String(reflecting: kind)): expected vendor.com/class")
    }
    self.vendor = vendor
    self.deviceClass = deviceClass
    containerEdits = try CDIContainerEdits(fields.node("containerEdits"), at: "containerEdits")
    devices = []
    var seen: Set<String> = []
    for (index, item) in try fields.list("devices").enumerated() {
      let place = "devices[\(index)]"
      let device = try YAMLFields(item, at: place, known: ["name", "containerEdits"])
      let name = try device.string("name") ?? ""
      if let problem = CDIDeviceName.nameProblem(name) { throw YAMLError("\(place): \(problem)") }
      guard seen.insert(name).inserted else { throw YAMLError("device \(String(reflecting: name)) is defined twice") }
      let edits = try CDIContainerEdits(device.node("containerEdits"), at: place + ".containerEdits")
      guard !edits.isEmpty else { throw YAMLError("device \(String(reflecting: name)) has no container edits") }
      devices.append((name, edits))
    }
  }
}

/// What a device (or a whole spec) changes in a container's OCI spec.
public struct CDIContainerEdits: Sendable, Equatable {
  public var env: [String] = []
  public var deviceNodes: [DeviceNode] = []
  public var hooks: [Hook] = []
  public var mounts: [Mount] = []

  public var isEmpty: Bool { env.isEmpty && deviceNodes.isEmpty && hooks.isEmpty && mounts.isEmpty }

  public init(env: [String] = [], deviceNodes: [DeviceNode] = [], hooks: [Hook] = [], mounts: [Mount] = []) {
    self.env = env
    self.deviceNodes = deviceNodes
    self.hooks = hooks
    self.mounts = mounts
  }

  public struct DeviceNode: Sendable, Equatable {
    /// Where it appears in the container.
    public var path: String
    /// The node on the host; empty means `path`.
    public var hostPath: String = ""
    /// "b", "c", "u", "p"; empty means the host node's.
    public var type: String = ""
    /// 0 means the host node's.
    public var major: Int64 = 0
    public var minor: Int64 = 0
    public var fileMode: UInt32?
    /// Cgroup access, some of "rwm"; empty means "rwm".
    public var permissions: String = ""
    public var uid: UInt32?
    public var gid: UInt32?

    public init(path: String, hostPath: String = "", type: String = "", major: Int64 = 0, minor: Int64 = 0) {
      self.path = path
      self.hostPath = hostPath
      self.type = type
      self.major = major
      self.minor = minor
    }
  }

  public struct Mount: Sendable, Equatable {
    public var hostPath: String
    public var containerPath: String
    public var options: [String] = []
    public var type: String = ""

    public init(hostPath: String, containerPath: String, options: [String] = [], type: String = "") {
      self.hostPath = hostPath
      self.containerPath = containerPath
      self.options = options
      self.type = type
    }
  }

  public struct Hook: Sendable, Equatable {
    /// The OCI hook stage (`prestart`, `createRuntime`, …).
    public var hookName: String
    public var path: String
    public var args: [String] = []
    public var env: [String] = []
    public var timeout: Int?

    public init(hookName: String, path: String, args: [String] = [], env: [String] = [], timeout: Int? = nil) {
      self.hookName = hookName
      self.path = path
      self.args = args
      self.env = env
      self.timeout = timeout
    }
  }
}

extension CDIContainerEdits {
  init(_ node: YAMLNode?, at place: String) throws(YAMLError) {
    guard let node else { return }
    let fields = try YAMLFields(node, at: place, known: ["env", "deviceNodes", "hooks", "mounts"])
    env = try fields.strings("env")
    try Self.checkEnvironment(env, at: place + ".env")
    for (index, item) in try fields.list("deviceNodes").enumerated() {
      let where_ = "\(place).deviceNodes[\(index)]"
      let node = try YAMLFields(
        item, at: where_, known: ["path", "hostPath", "type", "major", "minor", "fileMode", "permissions", "uid", "gid"])
      var device = DeviceNode(path: try node.string("path") ?? "")
      guard !device.path.isEmpty else { throw YAMLError("\(where_): empty device path") }
      device.hostPath = try node.string("hostPath") ?? ""
      device.type = try node.string("type") ?? ""
      guard ["", "b", "c", "u", "p"].contains(device.type) else {
        throw YAMLError("\(where_): device \(device.path) has the invalid type \(String(reflecting: device.type))")
      }
      device.major = try node.integer("major") ?? 0
      device.minor = try node.integer("minor") ?? 0
      device.fileMode = try Self.unsigned(node, "fileMode")
      device.permissions = try node.string("permissions") ?? ""
      guard device.permissions.allSatisfy({ "rwm".contains($0) }) else {
        throw YAMLError("\(where_): device \(device.path) has the invalid permissions \(String(reflecting: device.permissions))")
      }
      device.uid = try Self.unsigned(node, "uid")
      device.gid = try Self.unsigned(node, "gid")
      deviceNodes.append(device)
    }
    for (index, item) in try fields.list("hooks").enumerated() {
      let where_ = "\(place).hooks[\(index)]"
      let node = try YAMLFields(item, at: where_, known: ["hookName", "path", "args", "env", "timeout"])
      var hook = Hook(hookName: try node.string("hookName") ?? "", path: try node.string("path") ?? "")
      guard Spec.Hooks.Stage(rawValue: hook.hookName) != nil else {
        throw YAMLError("\(where_): invalid hook name \(String(reflecting: hook.hookName))")
      }
      guard !hook.path.isEmpty else { throw YAMLError("\(where_): hook \(hook.hookName) has an empty path") }
      hook.args = try node.strings("args")
      hook.env = try node.strings("env")
      try Self.checkEnvironment(hook.env, at: where_ + ".env")
      hook.timeout = try node.integer("timeout").map { Int($0) }
      hooks.append(hook)
    }
    for (index, item) in try fields.list("mounts").enumerated() {
      let where_ = "\(place).mounts[\(index)]"
      let node = try YAMLFields(item, at: where_, known: ["hostPath", "containerPath", "options", "type"])
      let mount = Mount(
        hostPath: try node.string("hostPath") ?? "", containerPath: try node.string("containerPath") ?? "",
        options: try node.strings("options"), type: try node.string("type") ?? "")
      guard !mount.hostPath.isEmpty else { throw YAMLError("\(where_): empty host path") }
      guard !mount.containerPath.isEmpty else { throw YAMLError("\(where_): empty container path") }
      mounts.append(mount)
    }
  }

  /// "KEY=value" with a non-empty key, as the CDI library's ValidateEnv.
  static func checkEnvironment(_ entries: [String], at place: String) throws(YAMLError) {
    for entry in entries {
      guard let equals = entry.firstIndex(of: "="), equals != entry.startIndex else {
        throw YAMLError("\(place): invalid environment variable \(String(reflecting: entry))")
      }
    }
  }

  static func unsigned(_ fields: YAMLFields, _ key: String) throws(YAMLError) -> UInt32? {
    guard let value = try fields.integer(key) else { return nil }
    guard let result = UInt32(exactly: value) else { throw YAMLError("\(fields.place).\(key) is out of range") }
    return result
  }
}
