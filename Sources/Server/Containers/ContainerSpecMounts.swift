import CRIAPI
import OCI
import Support

/// The container's mounts: runc's standard filesystems, the pod's files, then
/// the CRI mounts (a CRI mount on a default destination replaces the default).
extension ContainerSpecBuilder {
  struct Mounts {
    var mounts: [Spec.Mount]
    /// "rslave" or "rshared" when a CRI mount needs propagation from the host.
    var rootfsPropagation: String?
  }

  /// The container asked for a read-only root, or `read_only` makes every root so.
  static func readOnlyRoot(_ inputs: ContainerSpecInputs) -> Bool {
    inputs.config.linux.securityContext.readonlyRootfs || inputs.readOnlyRootfs
  }

  static func defaultMounts(_ inputs: ContainerSpecInputs) -> [Spec.Mount] {
    let security = inputs.config.linux.securityContext
    let privileged = security.privileged
    let podFileMode = readOnlyRoot(inputs) ? "ro" : "rw"
    let podFileOptions = ["bind", podFileMode, "nodev", "nosuid", "noexec"]
    // With `read_only`, the places programs expect to write are tmpfs,
    // seeded from the image (runc's tmpcopyup), unless a CRI mount covers them.
    let writable = inputs.readOnlyRootfs
      ? [("/run", "mode=0755"), ("/tmp", "mode=1777"), ("/var/tmp", "mode=1777")].map { destination, mode in
        Spec.Mount(
          destination: destination, type: "tmpfs", source: "tmpfs",
          options: ["rw", "noexec", "nosuid", "nodev", "tmpcopyup", mode])
      }
      : []
    return writable + [
      Spec.Mount(destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"]),
      Spec.Mount(
        destination: "/dev", type: "tmpfs", source: "tmpfs",
        options: ["nosuid", "strictatime", "mode=755", "size=65536k"]),
      Spec.Mount(
        destination: "/dev/pts", type: "devpts", source: "devpts",
        options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]),
      Spec.Mount(destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"]),
      Spec.Mount(
        destination: "/sys", type: "sysfs", source: "sysfs",
        options: ["nosuid", "noexec", "nodev", privileged ? "rw" : "ro"]),
      Spec.Mount(
        destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup",
        options: ["nosuid", "noexec", "nodev", "relatime", privileged ? "rw" : "ro"]),
      Spec.Mount(destination: "/dev/shm", type: "bind", source: inputs.shmPath ?? "/dev/shm", options: ["rbind", "rw"]),
      Spec.Mount(destination: "/etc/hostname", type: "bind", source: inputs.hostnamePath, options: podFileOptions),
      Spec.Mount(destination: "/etc/hosts", type: "bind", source: inputs.hostsPath, options: podFileOptions),
      Spec.Mount(destination: "/etc/resolv.conf", type: "bind", source: inputs.resolvPath, options: podFileOptions),
    ]
  }

  static func mounts(_ inputs: ContainerSpecInputs) throws(CRIError) -> Mounts {
    var criMounts: [Spec.Mount] = []
    var propagation: String?
    for (index, mount) in inputs.config.mounts.enumerated() {
      let field = "mounts[\(index)]"
      if mount.hasImage {
        throw .invalidArgument("\(field): image volumes are not supported")
      }
      let destination = try containerPath(mount.containerPath, field: "\(field).container_path")
      if destination == "/proc" || destination.hasPrefix("/proc/"), !Self.procMountTargets.contains(destination) {
        throw .invalidArgument(
          "\(field).container_path \(destination): mounts onto /proc are not allowed (only \(Self.procMountTargets.sorted().joined(separator: ", ")), as runc)")
      }
      guard mount.hostPath.hasPrefix("/") else {
        throw .invalidArgument("\(field).host_path \(String(reflecting: mount.hostPath)) is not an absolute path")
      }
      if mount.hostPath.utf8.contains(0) {
        throw .invalidArgument("\(field).host_path \(String(reflecting: mount.hostPath)) contains a NUL byte")
      }
      var source = try hostSource(mount.hostPath, inputs: inputs, field: field)
      if !mount.uidMappings.isEmpty || !mount.gidMappings.isEmpty {
        // The caller made the idmapped clone; runc binds that.
        guard let staged = inputs.idmappedMountSources[index] else {
          throw .invalidArgument("\(field): uid_mappings and gid_mappings go together")
        }
        source = staged
      }
      var options = ["rbind", mount.readonly ? "ro" : "rw"]
      switch mount.propagation {
      case .propagationPrivate:
        options.append("rprivate")
      case .propagationHostToContainer:
        options.append("rslave")
        if propagation == nil { propagation = "rslave" }
      case .propagationBidirectional:
        options.append("rshared")
        propagation = "rshared"
      case .UNRECOGNIZED(let value):
        throw .invalidArgument("\(field).propagation: unknown mode \(value)")
      }
      if mount.recursiveReadOnly {
        guard mount.readonly else {
          throw .invalidArgument("\(field).recursive_read_only needs readonly")
        }
        guard mount.propagation == .propagationPrivate else {
          throw .invalidArgument("\(field).recursive_read_only needs private propagation")
        }
        options.append("rro")
      }
      criMounts.removeAll { $0.destination == destination }
      criMounts.append(Spec.Mount(destination: destination, type: "bind", source: source, options: options))
    }
    let replaced = Set(criMounts.map(\.destination))
    let extra = inputs.configuredMounts.filter { !replaced.contains($0.destination) }
    let mounts = defaultMounts(inputs).filter { !replaced.contains($0.destination) } + extra + criMounts
    return Mounts(mounts: mounts, rootfsPropagation: propagation)
  }

  /// A CRI mount's source on this host: behind `bind_mount_prefix` when the
  /// daemon runs in a container with the host's root elsewhere. A missing
  /// one is made as a directory, as CRI-O (and Docker) do, unless
  /// `absent_mount_sources_to_reject` names it: a file such as /etc/hostname
  /// made as a directory would break the node after a reboot.
  static func hostSource(_ hostPath: String, inputs: ContainerSpecInputs, field: String) throws(CRIError) -> String {
    var prefix = inputs.bindMountPrefix
    while prefix.hasSuffix("/") { prefix.removeLast() }
    let source = prefix + hostPath
    guard Files.kind(of: source) == .missing else { return source }
    let cleaned = "/" + hostPath.split(separator: "/").filter { $0 != "." }.joined(separator: "/")
    if inputs.absentMountSourcesToReject.contains(cleaned) || inputs.absentMountSourcesToReject.contains(source) {
      throw .invalidArgument(
        "\(field).host_path \(hostPath) does not exist, and absent_mount_sources_to_reject forbids making it as a directory")
    }
    if hostPath.split(separator: "/").contains("..") {
      throw .invalidArgument("\(field).host_path \(String(reflecting: hostPath)) does not exist and contains \"..\"")
    }
    do {
      try Files.makeDirectories(source, mode: 0o755)
    } catch {
      throw .invalidArgument("\(field).host_path \(hostPath) does not exist and cannot be made: \(error.reason)")
    }
    return source
  }

  /// The files under /proc a bind mount may cover (runc's checkProcMount
  /// list, which LXCFS-style setups use); runc refuses the rest at create
  /// time, and refusing them here names the mount instead.
  static let procMountTargets: Set<String> = [
    "/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo", "/proc/stat", "/proc/swaps", "/proc/uptime",
    "/proc/loadavg", "/proc/slabinfo", "/proc/net/dev", "/proc/sys/kernel/ns_last_pid",
  ]

  /// An absolute path without `..`, cleaned of `.`, doubled and trailing slashes.
  static func containerPath(_ path: String, field: String) throws(CRIError) -> String {
    guard path.hasPrefix("/") else {
      throw .invalidArgument("\(field) \(String(reflecting: path)) is not an absolute path")
    }
    if path.utf8.contains(0) { throw .invalidArgument("\(field) \(String(reflecting: path)) contains a NUL byte") }
    let components = path.split(separator: "/").filter { $0 != "." }
    if components.contains("..") {
      throw .invalidArgument("\(field) \(String(reflecting: path)) contains \"..\"")
    }
    return "/" + components.joined(separator: "/")
  }
}
