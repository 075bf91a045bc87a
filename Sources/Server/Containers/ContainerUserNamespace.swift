import CRIAPI
import CSupport
import OCI
import PodNetwork
import Support

#if canImport(Glibc)
import Glibc
#endif

/// A pod's own user namespace (`userns_options` mode POD) as its
/// containers join it: the pinned namespace and its mappings.
struct PodUserNamespace: Sendable, Equatable {
  var path: String
  var mappings: UserNamespaceMappings

  /// The mappings a pod asks for; nil when it shares the host's user
  /// namespace (no `userns_options`, or mode NODE).
  static func requested(_ options: Runtime_V1_NamespaceOption, field: String) throws(CRIError) -> UserNamespaceMappings? {
    guard options.hasUsernsOptions else { return nil }
    let userns = options.usernsOptions
    switch userns.mode {
    case .node:
      guard userns.uids.isEmpty, userns.gids.isEmpty else {
        throw .invalidArgument("\(field).userns_options: mode NODE (the host's user namespace) takes no uids or gids")
      }
      return nil
    case .pod:
      do {
        return try UserNamespaceMappings(uids: userns.uids.map(IDMapRange.init), gids: userns.gids.map(IDMapRange.init))
      } catch {
        throw .invalidArgument("\(field).\(error.description)")
      }
    case .container, .target, .UNRECOGNIZED:
      throw .invalidArgument("\(field).userns_options: mode \(userns.mode) is not supported; a user namespace is the pod's (POD) or the host's (NODE)")
    }
  }

  /// `minimum_mappable_uid` / `minimum_mappable_gid` (-1: none): a pod may not
  /// map host IDs below them, so host users such as system accounts can never
  /// own a pod's files.
  static func checkMinimumHostIDs(_ mappings: UserNamespaceMappings, minimumUID: Int, minimumGID: Int) throws(CRIError) {
    for (kind, ranges, minimum) in [("uid", mappings.uids, minimumUID), ("gid", mappings.gids, minimumGID)] where minimum >= 0 {
      if let low = ranges.first(where: { Int($0.hostID) < minimum }) {
        throw .invalidArgument(
          "userns_options.\(kind)s maps host \(kind) \(low.hostID), below minimum_mappable_\(kind) \(minimum) of this node")
      }
    }
  }

  /// RunPodSandbox's checks: a pod in its own user namespace cannot share
  /// the host's network, IPC or PID namespace (runc joins the user
  /// namespace first and could not enter the host's then), as kubelet
  /// also requires.
  static func checkPodNamespaces(_ options: Runtime_V1_NamespaceOption) throws(CRIError) {
    let shared = [("network", options.network), ("ipc", options.ipc), ("pid", options.pid)].filter { $0.1 == .node }
    guard shared.isEmpty else {
      throw .invalidArgument(
        "a pod with its own user namespace (userns_options mode POD) cannot use the host's \(shared.map(\.0).joined(separator: ", ")) namespace")
    }
  }

  /// The user namespace a container joins: its pod's. A container config
  /// that asks for different mappings, or for the host's namespace in a pod
  /// that has its own, is refused rather than half-honoured.
  static func forContainer(_ config: Runtime_V1_ContainerConfig, pod: PodSandbox) throws(CRIError) -> PodUserNamespace? {
    let podMappings = try requested(pod.configMessage.linux.securityContext.namespaceOptions, field: "pod namespace_options")
    let options = config.linux.securityContext.namespaceOptions
    if options.hasUsernsOptions {
      let own = try requested(options, field: "linux.security_context.namespace_options")
      guard own == podMappings else {
        throw .invalidArgument(
          "the container's userns_options differ from its pod's; a container always shares its pod's user namespace")
      }
    }
    guard let podMappings else { return nil }
    guard let path = pod.namespaces.user else {
      throw .failedPrecondition("pod \(pod.id) has lost its user namespace; recreate the pod")
    }
    if config.linux.securityContext.privileged {
      throw .invalidArgument("a privileged container cannot run in a pod with its own user namespace")
    }
    return PodUserNamespace(path: path, mappings: podMappings)
  }

  var hostRoot: (uid: uid_t, gid: gid_t) { (mappings.hostRootUID, mappings.hostRootGID) }

  /// Opens the pinned namespace, for idmapped mounts.
  func open() throws(CRIError) -> Int32 {
    let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw .internal("cannot open the pod's user namespace \(path): \(SystemError("open").reason)") }
    return fd
  }
}

extension IDMapRange {
  init(_ mapping: Runtime_V1_IDMapping) {
    self.init(containerID: mapping.containerID, hostID: mapping.hostID, size: mapping.length)
  }
}

/// Idmapped mounts made for one container: each a clone of a host
/// directory or file, seen through a user namespace's mapping, attached
/// under a staging directory of the container's. A mount that uses one
/// (the overlay, runc's bind mounts) holds its own reference, so the
/// staging mounts are detached as soon as that mount is made.
struct IDMappedMounts {
  let directory: String
  private(set) var targets: [String] = []

  init(directory: String) {
    self.directory = directory
  }

  /// Attaches an idmapped clone of `source` and returns where it is.
  mutating func stage(_ source: String, userNamespace fd: Int32, recursive: Bool, what: String) throws(CRIError) -> String {
    let target = directory + "/\(targets.count)"
    do {
      try Files.makeDirectories(directory, mode: 0o711)
      if Files.kind(of: source) == .directory {
        try Files.makeDirectories(target, mode: 0o755)
      } else {
        try Files.write(target, "")
      }
    } catch {
      throw .internal("cannot prepare an idmapped mount of \(what) at \(target): \(error)")
    }
    targets.append(target)
    let tree = crio_idmapped_clone(source, fd, recursive ? 1 : 0)
    guard tree >= 0 else {
      let code = errno
      let reason = SystemError("mount_setattr").reason
      throw code == EINVAL || code == ENOSYS || code == EPERM
        ? .failedPrecondition("\(what) (\(source)) cannot be idmapped: its file system or this kernel does not support idmapped mounts (\(reason))")
        : .internal("cannot make an idmapped mount of \(what) (\(source)): \(reason)")
    }
    defer { close(tree) }
    guard crio_attach_mount(tree, target) == 0 else {
      throw .internal("cannot attach the idmapped mount of \(what) on \(target): \(SystemError("move_mount").reason)")
    }
    return target
  }

  /// Detaches every staging mount and removes the directory. Also run on
  /// a directory left by a crash, so it works from the directory alone.
  static func detachAll(in directory: String) {
    for name in (try? Files.list(directory)) ?? [] {
      umount2(directory + "/" + name, Int32(MNT_DETACH))
    }
    Files.removeTree(directory)
  }
}

extension Files {
  /// Gives every directory from `path` up to / search permission for all
  /// (adds 0o111, as CRI-O's makeAccessible): runc's init, already in the
  /// pod's user namespace, resolves the rootfs and mount sources as a uid
  /// that owns none of them.
  static func makeTraversable(_ path: String) throws(CRIError) {
    var current = path
    while !current.isEmpty && current != "/" {
      var info = stat()
      guard stat(current, &info) == 0 else {
        if errno == ENOENT { return }
        throw .internal("cannot make \(current) reachable from the pod's user namespace: \(SystemError("stat").reason)")
      }
      if info.st_mode & S_IFMT == S_IFDIR, info.st_mode & 0o111 != 0o111 {
        guard chmod(current, (info.st_mode & 0o7777) | 0o111) == 0 else {
          throw .internal("cannot make \(current) reachable from the pod's user namespace: \(SystemError("chmod").reason)")
        }
      }
      current = String(current[..<(current.lastIndex(of: "/") ?? current.startIndex)])
    }
  }
}
