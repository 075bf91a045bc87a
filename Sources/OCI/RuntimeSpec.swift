// OCI runtime-spec (config.json) models: the subset a CRI runtime writes.
// Key names are the runtime-spec's own (camelCase); optional members left nil
// are omitted from the encoded JSON (synthesized Codable uses encodeIfPresent).
// Types follow the runtime-spec's Go definitions (specs-go/config.go).

/// The runtime-spec version this daemon writes.
public let ociRuntimeSpecVersion = "1.0.2"

/// A container's `config.json`.
public struct Spec: Codable, Hashable, Sendable {
  public var ociVersion: String
  public var process: Process?
  public var root: Root?
  public var hostname: String?
  public var mounts: [Mount]?
  public var annotations: [String: String]?
  public var hooks: Hooks?
  public var linux: Linux?

  public init(
    ociVersion: String = ociRuntimeSpecVersion, process: Process? = nil, root: Root? = nil, hostname: String? = nil,
    mounts: [Mount]? = nil, annotations: [String: String]? = nil, hooks: Hooks? = nil, linux: Linux? = nil
  ) {
    self.ociVersion = ociVersion
    self.process = process
    self.root = root
    self.hostname = hostname
    self.mounts = mounts
    self.annotations = annotations
    self.hooks = hooks
    self.linux = linux
  }

  /// Programs the runtime runs at points of the container's life, each
  /// given the container's state JSON on stdin.
  public struct Hooks: Codable, Hashable, Sendable {
    /// Deprecated by the runtime-spec for createRuntime, still run by runc
    /// (after the namespaces are made, before pivot_root).
    public var prestart: [Hook]?
    public var createRuntime: [Hook]?
    public var createContainer: [Hook]?
    public var startContainer: [Hook]?
    public var poststart: [Hook]?
    public var poststop: [Hook]?

    public init(
      prestart: [Hook]? = nil, createRuntime: [Hook]? = nil, createContainer: [Hook]? = nil,
      startContainer: [Hook]? = nil, poststart: [Hook]? = nil, poststop: [Hook]? = nil
    ) {
      self.prestart = prestart
      self.createRuntime = createRuntime
      self.createContainer = createContainer
      self.startContainer = startContainer
      self.poststart = poststart
      self.poststop = poststop
    }

    /// The stages by their runtime-spec names.
    public enum Stage: String, CaseIterable, Sendable {
      case prestart, createRuntime, createContainer, startContainer, poststart, poststop
    }

    public subscript(stage: Stage) -> [Hook]? {
      get {
        switch stage {
        case .prestart: prestart
        case .createRuntime: createRuntime
        case .createContainer: createContainer
        case .startContainer: startContainer
        case .poststart: poststart
        case .poststop: poststop
        }
      }
      set {
        switch stage {
        case .prestart: prestart = newValue
        case .createRuntime: createRuntime = newValue
        case .createContainer: createContainer = newValue
        case .startContainer: startContainer = newValue
        case .poststart: poststart = newValue
        case .poststop: poststop = newValue
        }
      }
    }
  }

  public struct Hook: Codable, Hashable, Sendable {
    /// Absolute path of the program on the host.
    public var path: String
    /// Its argv, the program's name first.
    public var args: [String]?
    /// Its whole environment ("KEY=value"); nothing is inherited.
    public var env: [String]?
    /// Seconds before the runtime kills it and fails the stage.
    public var timeout: Int?

    public init(path: String, args: [String]? = nil, env: [String]? = nil, timeout: Int? = nil) {
      self.path = path
      self.args = args
      self.env = env
      self.timeout = timeout
    }
  }

  /// The container's process.
  public struct Process: Codable, Hashable, Sendable {
    public var terminal: Bool?
    public var consoleSize: ConsoleSize?
    public var user: User
    public var args: [String]?
    public var env: [String]?
    public var cwd: String
    public var capabilities: Capabilities?
    public var rlimits: [Rlimit]?
    public var noNewPrivileges: Bool?
    public var apparmorProfile: String?
    public var oomScoreAdj: Int?
    public var selinuxLabel: String?

    public init(
      terminal: Bool? = nil, user: User = User(), args: [String]? = nil, env: [String]? = nil, cwd: String = "/",
      capabilities: Capabilities? = nil, rlimits: [Rlimit]? = nil, noNewPrivileges: Bool? = nil,
      apparmorProfile: String? = nil, oomScoreAdj: Int? = nil, selinuxLabel: String? = nil
    ) {
      self.terminal = terminal
      self.user = user
      self.args = args
      self.env = env
      self.cwd = cwd
      self.capabilities = capabilities
      self.rlimits = rlimits
      self.noNewPrivileges = noNewPrivileges
      self.apparmorProfile = apparmorProfile
      self.oomScoreAdj = oomScoreAdj
      self.selinuxLabel = selinuxLabel
    }
  }

  public struct ConsoleSize: Codable, Hashable, Sendable {
    public var height: UInt
    public var width: UInt
    public init(height: UInt, width: UInt) {
      self.height = height
      self.width = width
    }
  }

  public struct User: Codable, Hashable, Sendable {
    public var uid: UInt32
    public var gid: UInt32
    public var umask: UInt32?
    public var additionalGids: [UInt32]?
    public init(uid: UInt32 = 0, gid: UInt32 = 0, umask: UInt32? = nil, additionalGids: [UInt32]? = nil) {
      self.uid = uid
      self.gid = gid
      self.umask = umask
      self.additionalGids = additionalGids
    }
  }

  /// Capability sets; names are "CAP_..." strings.
  public struct Capabilities: Codable, Hashable, Sendable {
    public var bounding: [String]?
    public var effective: [String]?
    public var inheritable: [String]?
    public var permitted: [String]?
    public var ambient: [String]?
    public init(
      bounding: [String]? = nil, effective: [String]? = nil, inheritable: [String]? = nil,
      permitted: [String]? = nil, ambient: [String]? = nil
    ) {
      self.bounding = bounding
      self.effective = effective
      self.inheritable = inheritable
      self.permitted = permitted
      self.ambient = ambient
    }

    /// The same names in bounding, effective and permitted (CRI-O's usual shape).
    public static func uniform(_ names: [String]) -> Capabilities {
      Capabilities(bounding: names, effective: names, permitted: names)
    }
  }

  public struct Rlimit: Codable, Hashable, Sendable {
    /// e.g. "RLIMIT_NOFILE".
    public var type: String
    public var hard: UInt64
    public var soft: UInt64
    public init(type: String, hard: UInt64, soft: UInt64) {
      self.type = type
      self.hard = hard
      self.soft = soft
    }
  }

  public struct Root: Codable, Hashable, Sendable {
    public var path: String
    public var readonly: Bool?
    public init(path: String, readonly: Bool? = nil) {
      self.path = path
      self.readonly = readonly
    }
  }

  public struct Mount: Codable, Hashable, Sendable {
    public var destination: String
    public var type: String?
    public var source: String?
    public var options: [String]?
    public init(destination: String, type: String? = nil, source: String? = nil, options: [String]? = nil) {
      self.destination = destination
      self.type = type
      self.source = source
      self.options = options
    }
  }

  /// Linux-specific configuration.
  public struct Linux: Codable, Hashable, Sendable {
    public var namespaces: [Namespace]?
    public var uidMappings: [IDMapping]?
    public var gidMappings: [IDMapping]?
    public var devices: [Device]?
    public var cgroupsPath: String?
    public var resources: Resources?
    public var sysctl: [String: String]?
    public var seccomp: Seccomp?
    public var maskedPaths: [String]?
    public var readonlyPaths: [String]?
    public var rootfsPropagation: String?
    public var mountLabel: String?

    public init(
      namespaces: [Namespace]? = nil, uidMappings: [IDMapping]? = nil, gidMappings: [IDMapping]? = nil,
      devices: [Device]? = nil, cgroupsPath: String? = nil, resources: Resources? = nil,
      sysctl: [String: String]? = nil, seccomp: Seccomp? = nil, maskedPaths: [String]? = nil,
      readonlyPaths: [String]? = nil, rootfsPropagation: String? = nil, mountLabel: String? = nil
    ) {
      self.namespaces = namespaces
      self.uidMappings = uidMappings
      self.gidMappings = gidMappings
      self.devices = devices
      self.cgroupsPath = cgroupsPath
      self.resources = resources
      self.sysctl = sysctl
      self.seccomp = seccomp
      self.maskedPaths = maskedPaths
      self.readonlyPaths = readonlyPaths
      self.rootfsPropagation = rootfsPropagation
      self.mountLabel = mountLabel
    }
  }

  public struct Namespace: Codable, Hashable, Sendable {
    /// "pid", "network", "mount", "ipc", "uts", "user" or "cgroup".
    public var type: String
    /// An existing namespace to join (e.g. a pinned /var/run/netns/... file).
    public var path: String?
    public init(type: String, path: String? = nil) {
      self.type = type
      self.path = path
    }
  }

  public struct IDMapping: Codable, Hashable, Sendable {
    public var containerID: UInt32
    public var hostID: UInt32
    public var size: UInt32
    public init(containerID: UInt32, hostID: UInt32, size: UInt32) {
      self.containerID = containerID
      self.hostID = hostID
      self.size = size
    }
  }

  /// A device node created in the container.
  public struct Device: Codable, Hashable, Sendable {
    /// "c", "b", "u" or "p".
    public var type: String
    public var path: String
    public var major: Int64?
    public var minor: Int64?
    public var fileMode: UInt32?
    public var uid: UInt32?
    public var gid: UInt32?
    public init(
      type: String, path: String, major: Int64? = nil, minor: Int64? = nil, fileMode: UInt32? = nil,
      uid: UInt32? = nil, gid: UInt32? = nil
    ) {
      self.type = type
      self.path = path
      self.major = major
      self.minor = minor
      self.fileMode = fileMode
      self.uid = uid
      self.gid = gid
    }
  }

  public struct Resources: Codable, Hashable, Sendable {
    public var devices: [DeviceCgroup]?
    public var memory: Memory?
    public var cpu: CPU?
    public var pids: Pids?
    public var hugepageLimits: [HugepageLimit]?
    /// cgroup v2 files and values.
    public var unified: [String: String]?
    public init(
      devices: [DeviceCgroup]? = nil, memory: Memory? = nil, cpu: CPU? = nil, pids: Pids? = nil,
      hugepageLimits: [HugepageLimit]? = nil, unified: [String: String]? = nil
    ) {
      self.devices = devices
      self.memory = memory
      self.cpu = cpu
      self.pids = pids
      self.hugepageLimits = hugepageLimits
      self.unified = unified
    }
  }

  /// A device cgroup rule.
  public struct DeviceCgroup: Codable, Hashable, Sendable {
    public var allow: Bool
    public var type: String?
    public var major: Int64?
    public var minor: Int64?
    /// Some of "rwm".
    public var access: String?
    public init(allow: Bool, type: String? = nil, major: Int64? = nil, minor: Int64? = nil, access: String? = nil) {
      self.allow = allow
      self.type = type
      self.major = major
      self.minor = minor
      self.access = access
    }
  }

  public struct Memory: Codable, Hashable, Sendable {
    public var limit: Int64?
    public var reservation: Int64?
    public var swap: Int64?
    public var kernel: Int64?
    public var kernelTCP: Int64?
    public var swappiness: UInt64?
    public var disableOOMKiller: Bool?
    public var useHierarchy: Bool?
    public init(
      limit: Int64? = nil, reservation: Int64? = nil, swap: Int64? = nil, kernel: Int64? = nil,
      kernelTCP: Int64? = nil, swappiness: UInt64? = nil, disableOOMKiller: Bool? = nil, useHierarchy: Bool? = nil
    ) {
      self.limit = limit
      self.reservation = reservation
      self.swap = swap
      self.kernel = kernel
      self.kernelTCP = kernelTCP
      self.swappiness = swappiness
      self.disableOOMKiller = disableOOMKiller
      self.useHierarchy = useHierarchy
    }
  }

  public struct CPU: Codable, Hashable, Sendable {
    public var shares: UInt64?
    public var quota: Int64?
    public var period: UInt64?
    public var realtimeRuntime: Int64?
    public var realtimePeriod: UInt64?
    public var cpus: String?
    public var mems: String?
    public init(
      shares: UInt64? = nil, quota: Int64? = nil, period: UInt64? = nil, realtimeRuntime: Int64? = nil,
      realtimePeriod: UInt64? = nil, cpus: String? = nil, mems: String? = nil
    ) {
      self.shares = shares
      self.quota = quota
      self.period = period
      self.realtimeRuntime = realtimeRuntime
      self.realtimePeriod = realtimePeriod
      self.cpus = cpus
      self.mems = mems
    }
  }

  public struct Pids: Codable, Hashable, Sendable {
    public var limit: Int64
    public init(limit: Int64) { self.limit = limit }
  }

  public struct HugepageLimit: Codable, Hashable, Sendable {
    /// e.g. "2MB".
    public var pageSize: String
    public var limit: UInt64
    public init(pageSize: String, limit: UInt64) {
      self.pageSize = pageSize
      self.limit = limit
    }
  }

  /// A seccomp profile in runtime-spec form.
  public struct Seccomp: Codable, Hashable, Sendable {
    public var defaultAction: String
    public var defaultErrnoRet: UInt32?
    public var architectures: [String]?
    public var flags: [String]?
    public var syscalls: [Syscall]?
    public init(
      defaultAction: String, defaultErrnoRet: UInt32? = nil, architectures: [String]? = nil,
      flags: [String]? = nil, syscalls: [Syscall]? = nil
    ) {
      self.defaultAction = defaultAction
      self.defaultErrnoRet = defaultErrnoRet
      self.architectures = architectures
      self.flags = flags
      self.syscalls = syscalls
    }
  }

  public struct Syscall: Codable, Hashable, Sendable {
    public var names: [String]
    public var action: String
    public var errnoRet: UInt32?
    public var args: [SyscallArg]?
    public init(names: [String], action: String, errnoRet: UInt32? = nil, args: [SyscallArg]? = nil) {
      self.names = names
      self.action = action
      self.errnoRet = errnoRet
      self.args = args
    }
  }

  public struct SyscallArg: Codable, Hashable, Sendable {
    public var index: UInt
    public var value: UInt64
    public var valueTwo: UInt64?
    /// e.g. "SCMP_CMP_EQ".
    public var op: String
    public init(index: UInt, value: UInt64, valueTwo: UInt64? = nil, op: String) {
      self.index = index
      self.value = value
      self.valueTwo = valueTwo
      self.op = op
    }
  }
}
