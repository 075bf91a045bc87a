import CRIAPI
import Config
import ContainerSecurity
import OCI
import PodNetwork
import Support

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Everything `ContainerSpecBuilder` needs about a container being created and
/// the pod it joins. The caller has already mounted the rootfs, pinned the
/// namespaces and written the pod's hostname, hosts and resolv.conf files.
struct ContainerSpecInputs: Sendable {
  var containerID: String
  /// From CreateContainerRequest.
  var config: Runtime_V1_ContainerConfig
  var podConfig: Runtime_V1_PodSandboxConfig
  /// The image's decoded configuration.
  var image: ImageConfiguration
  /// The mounted overlay: the container's root.
  var rootfs: String
  /// The pod's pinned network namespace; nil is the host's network.
  var networkNamespace: String?
  /// nil is the host's IPC namespace.
  var ipcNamespace: String?
  /// nil is the host's UTS namespace (no hostname is set then).
  var utsNamespace: String?
  /// The PID namespace to join when the config asks for the pod's or a
  /// target container's (`/proc/<pid>/ns/pid`); nil makes a new one.
  var sharedPIDNamespace: String? = nil
  var hostnamePath: String
  var hostsPath: String
  var resolvPath: String
  /// The pod's /dev/shm tmpfs; nil binds the host's /dev/shm.
  var shmPath: String?
  var hostname: String
  /// Computed by the caller (cgroupfs or systemd form).
  var cgroupsPath: String
  /// CrioConfig.runtime.defaultCapabilities, "CHOWN" or "CAP_CHOWN" forms.
  var defaultCapabilities: [String]
  /// "KEY=value" entries every container gets first.
  var defaultEnv: [String]
  /// nil allows any oom_score_adj; otherwise lower values are raised to this
  /// (an unprivileged host cannot lower oom_score_adj).
  var allowedOOMScoreAdjMin: Int?
  /// `seccomp_profile`: the runtime default's file ("" = the built-in profile).
  var defaultSeccompProfile: String = ""
  /// `seccomp_use_default_when_empty`.
  var seccompDefaultWhenEmpty = true
  /// `additional_devices`: "/dev/host[:/dev/container][:rwm]" for every container.
  var additionalDevices: [String] = []
  /// The pod's devices annotation (`devices.crio.io` or the older
  /// `io.kubernetes.cri-o.Devices`), when its runtime handler's
  /// `allowed_annotations` let the pod use it.
  var annotationDevices: String? = nil
  /// `allowed_devices`: the host devices that annotation may name.
  var allowedDevices: [String] = []
  /// `read_only`: every container's root file system is read-only, with
  /// tmpfs on /run, /tmp and /var/tmp (as CRI-O gives them then).
  var readOnlyRootfs = false
  /// `default_ulimits`: the container's rlimits (none: runc passes on its own).
  var ulimits: [Ulimit] = []
  /// `pids_limit`: the container's pids cgroup limit; 0 or less sets none.
  var pidsLimit = 0
  /// `add_inheritable_capabilities`: the capabilities are inheritable too.
  var addInheritableCapabilities = false
  /// `bind_mount_prefix`: put before every CRI mount's host path.
  var bindMountPrefix = ""
  /// `absent_mount_sources_to_reject`: missing CRI mount sources that are an
  /// error instead of being made as directories.
  var absentMountSourcesToReject: [String] = []
  /// Mounts the configuration adds (`default_mounts_file`, `timezone`,
  /// `image_volumes = "bind"`), each unless a CRI mount takes its place.
  var configuredMounts: [Spec.Mount] = []
  /// `privileged_without_host_devices` of the pod's handler.
  var privilegedWithoutHostDevices = false
  /// `device_ownership_from_security_context`: CRI devices belong to the
  /// container's run-as user and group instead of the host node's owner.
  var deviceOwnershipFromSecurityContext = false
  /// The pod's own user namespace, which the container joins; nil is the host's.
  var userNamespace: PodUserNamespace? = nil
  /// Where the caller staged idmapped clones of the CRI mounts that have
  /// uid/gid mappings, by index in `config.mounts`.
  var idmappedMountSources: [Int: String] = [:]
}

/// Facts about the host the spec depends on; `current` reads them, tests pass their own.
struct ContainerSpecHost: Sendable, Equatable {
  /// The unified hierarchy is mounted at /sys/fs/cgroup.
  var cgroupV2: Bool
  /// "CAP_..." names in the daemon's bounding set: what a privileged container gets.
  var boundingCapabilities: [String]
  /// Whether AppArmor and SELinux are on.
  var securityModules = LinuxSecurityModules(appArmorEnabled: false, selinuxEnabled: false)
  /// Whether the pids controller is there (CRI-O sets `pids_limit` only then).
  var pidsController = true

  static var current: ContainerSpecHost {
    let cgroupV2 = access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0
    return ContainerSpecHost(
      cgroupV2: cgroupV2,
      boundingCapabilities: LinuxCapability.currentBoundingSet(),
      securityModules: .detect(),
      pidsController: cgroupV2
        ? ((try? Files.read("/sys/fs/cgroup/cgroup.controllers"))?.split(separator: " ").contains { $0.hasPrefix("pids") } ?? false)
        : access("/sys/fs/cgroup/pids", F_OK) == 0)
  }
}

/// Builds a container's OCI `config.json` the way CRI-O does for Kubernetes.
enum ContainerSpecBuilder {
  static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

  static let defaultMaskedPaths = [
    "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
    "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
  ]

  static let defaultReadonlyPaths = [
    "/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
  ]

  /// The OCI config.json for a container, following Kubernetes/CRI-O rules.
  /// Throws `.invalidArgument` for bad input, with a message naming the field.
  static func build(_ inputs: ContainerSpecInputs) throws(CRIError) -> Spec {
    try build(inputs, host: .current)
  }

  static func build(_ inputs: ContainerSpecInputs, host: ContainerSpecHost) throws(CRIError) -> Spec {
    let config = inputs.config
    let security = config.linux.securityContext
    let privileged = security.privileged

    var process = Spec.Process()
    process.terminal = config.tty
    process.args = try arguments(config: config, image: inputs.image.config)
    process.env = try environment(inputs)
    process.cwd = try workingDirectory(config: config, image: inputs.image.config)
    process.user = try user(inputs)
    process.capabilities = try capabilities(
      security: security, defaults: inputs.defaultCapabilities, host: host)
    if inputs.addInheritableCapabilities, let granted = process.capabilities {
      // CRI-O's add_inheritable_capabilities: the set is inheritable as well
      // (what CVE-2022-27652's fix took away, for nodes that relied on it).
      process.capabilities?.inheritable = granted.permitted
    }
    process.noNewPrivileges = security.noNewPrivs
    (process.apparmorProfile, process.selinuxLabel) = try securityModules(security, host: host)
    if !inputs.ulimits.isEmpty {
      process.rlimits = inputs.ulimits.map { Spec.Rlimit(type: $0.type, hard: $0.hard, soft: $0.soft) }
    }
    if config.linux.hasResources {
      process.oomScoreAdj = try oomScoreAdj(
        config.linux.resources.oomScoreAdj, allowedMinimum: inputs.allowedOOMScoreAdjMin)
    }

    var spec = Spec()
    spec.process = process
    spec.root = Spec.Root(path: inputs.rootfs, readonly: readOnlyRoot(inputs))
    if inputs.utsNamespace != nil, !inputs.hostname.isEmpty {
      spec.hostname = inputs.hostname
    }
    let mountPlan = try mounts(inputs)
    spec.mounts = mountPlan.mounts
    spec.annotations = annotations(inputs)

    var linux = Spec.Linux()
    linux.namespaces = try namespaces(inputs, host: host)
    if let userNamespace = inputs.userNamespace {
      // runc wants the mappings even when it joins the namespace by path.
      linux.uidMappings = userNamespace.mappings.uids
      linux.gidMappings = userNamespace.mappings.gids
    }
    linux.cgroupsPath = inputs.cgroupsPath
    linux.resources = resources(config.linux, privileged: privileged)
    if inputs.pidsLimit > 0, host.pidsController {
      linux.resources?.pids = Spec.Pids(limit: Int64(inputs.pidsLimit))
    }
    linux.seccomp = try seccomp(inputs, capabilities: process.capabilities?.bounding ?? [])
    let devices = try devices(inputs)
    if privileged && !inputs.privilegedWithoutHostDevices {
      linux.devices = HostDevices.privilegedDevices()
    } else if !devices.isEmpty {
      linux.devices = devices.map(\.device)
      let rules = linux.resources?.devices ?? []
      linux.resources?.devices = rules + devices.map(\.rule)
    }
    linux.rootfsPropagation = mountPlan.rootfsPropagation
    if privileged {
      linux.maskedPaths = []
      linux.readonlyPaths = []
    } else {
      linux.maskedPaths = security.maskedPaths.isEmpty ? defaultMaskedPaths : security.maskedPaths
      linux.readonlyPaths = security.readonlyPaths.isEmpty ? defaultReadonlyPaths : security.readonlyPaths
    }
    spec.linux = linux
    return spec
  }

  // MARK: - Annotations

  static func annotations(_ inputs: ContainerSpecInputs) -> [String: String] {
    var result = inputs.config.annotations
    result["io.kubernetes.container.name"] = inputs.config.metadata.name
    result["io.kubernetes.pod.name"] = inputs.podConfig.metadata.name
    result["io.kubernetes.pod.namespace"] = inputs.podConfig.metadata.namespace
    result["io.kubernetes.pod.uid"] = inputs.podConfig.metadata.uid
    return result
  }

  // MARK: - Namespaces

  static func namespaces(_ inputs: ContainerSpecInputs, host: ContainerSpecHost) throws(CRIError) -> [Spec.Namespace] {
    var result: [Spec.Namespace] = []
    if let userNamespace = inputs.userNamespace {
      result.append(Spec.Namespace(type: "user", path: userNamespace.path))
    }
    switch inputs.config.linux.securityContext.namespaceOptions.pid {
    case .node:
      break
    case .container:
      result.append(Spec.Namespace(type: "pid"))
    case .pod, .target:
      // The caller found the pod's (or target container's) namespace.
      result.append(Spec.Namespace(type: "pid", path: inputs.sharedPIDNamespace))
    case .UNRECOGNIZED(let value):
      throw .invalidArgument("linux.security_context.namespace_options.pid: unknown mode \(value)")
    }
    result.append(Spec.Namespace(type: "mount"))
    if let path = inputs.networkNamespace { result.append(Spec.Namespace(type: "network", path: path)) }
    if let path = inputs.ipcNamespace { result.append(Spec.Namespace(type: "ipc", path: path)) }
    if let path = inputs.utsNamespace { result.append(Spec.Namespace(type: "uts", path: path)) }
    if host.cgroupV2 { result.append(Spec.Namespace(type: "cgroup")) }
    return result
  }

  // MARK: - Resources

  /// runc's default device rules: deny everything, then allow the standard
  /// character devices and mknod of any device.
  static let defaultDeviceRules: [Spec.DeviceCgroup] = [
    Spec.DeviceCgroup(allow: false, access: "rwm"),
    Spec.DeviceCgroup(allow: true, type: "c", access: "m"),
    Spec.DeviceCgroup(allow: true, type: "b", access: "m"),
    Spec.DeviceCgroup(allow: true, type: "c", major: 1, minor: 3, access: "rwm"),  // /dev/null
    Spec.DeviceCgroup(allow: true, type: "c", major: 1, minor: 5, access: "rwm"),  // /dev/zero
    Spec.DeviceCgroup(allow: true, type: "c", major: 1, minor: 7, access: "rwm"),  // /dev/full
    Spec.DeviceCgroup(allow: true, type: "c", major: 1, minor: 8, access: "rwm"),  // /dev/random
    Spec.DeviceCgroup(allow: true, type: "c", major: 1, minor: 9, access: "rwm"),  // /dev/urandom
    Spec.DeviceCgroup(allow: true, type: "c", major: 5, minor: 0, access: "rwm"),  // /dev/tty
    Spec.DeviceCgroup(allow: true, type: "c", major: 5, minor: 2, access: "rwm"),  // /dev/ptmx
    Spec.DeviceCgroup(allow: true, type: "c", major: 136, access: "rwm"),  // /dev/pts/*
  ]

  static func resources(_ linux: Runtime_V1_LinuxContainerConfig, privileged: Bool) -> Spec.Resources {
    var result = Spec.Resources()
    result.devices = privileged ? [Spec.DeviceCgroup(allow: true, access: "rwm")] : defaultDeviceRules
    guard linux.hasResources else { return result }
    let r = linux.resources

    var cpu = Spec.CPU()
    if r.cpuShares > 0 { cpu.shares = UInt64(r.cpuShares) }
    if r.cpuQuota != 0 { cpu.quota = r.cpuQuota }
    if r.cpuPeriod > 0 { cpu.period = UInt64(r.cpuPeriod) }
    if !r.cpusetCpus.isEmpty { cpu.cpus = r.cpusetCpus }
    if !r.cpusetMems.isEmpty { cpu.mems = r.cpusetMems }
    if cpu != Spec.CPU() { result.cpu = cpu }

    var memory = Spec.Memory()
    if r.memoryLimitInBytes > 0 { memory.limit = r.memoryLimitInBytes }
    if r.memorySwapLimitInBytes > 0 { memory.swap = r.memorySwapLimitInBytes }
    if memory != Spec.Memory() { result.memory = memory }

    if !r.hugepageLimits.isEmpty {
      result.hugepageLimits = r.hugepageLimits.map { Spec.HugepageLimit(pageSize: $0.pageSize, limit: $0.limit) }
    }
    if !r.unified.isEmpty { result.unified = r.unified }
    return result
  }

  static func oomScoreAdj(_ value: Int64, allowedMinimum: Int?) throws(CRIError) -> Int {
    guard (-1000...1000).contains(value) else {
      throw .invalidArgument("linux.resources.oom_score_adj \(value) is outside -1000...1000")
    }
    var result = Int(value)
    if let allowedMinimum, result < allowedMinimum { result = allowedMinimum }
    return result
  }
}
