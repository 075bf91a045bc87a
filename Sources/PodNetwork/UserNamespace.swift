import CSupport
import OCI
import Support

#if canImport(Glibc)
import Glibc
#endif

/// One line of a user namespace's uid_map or gid_map (the runtime spec's
/// IDMapping): `size` IDs from `containerID` inside are `hostID`... outside.
public typealias IDMapRange = Spec.IDMapping

extension Spec.IDMapping {
  /// `container:host:size`, as `crio pinns` takes it.
  public var argument: String { "\(containerID):\(hostID):\(size)" }

  public init?(argument: String) {
    let parts = argument.split(separator: ":", omittingEmptySubsequences: false)
    guard parts.count == 3, let container = UInt32(parts[0]), let host = UInt32(parts[1]), let size = UInt32(parts[2]) else {
      return nil
    }
    self.init(containerID: container, hostID: host, size: size)
  }

  var containerEnd: UInt64 { UInt64(containerID) + UInt64(size) }
  var hostEnd: UInt64 { UInt64(hostID) + UInt64(size) }
}

/// A pod's user namespace mappings (the CRI's `userns_options` uids and
/// gids), checked as the kernel and runc would check them, but up front and
/// with a message naming the field.
public struct UserNamespaceMappings: Sendable, Hashable, Codable {
  public var uids: [IDMapRange]
  public var gids: [IDMapRange]

  /// The kernel takes at most 340 lines per map.
  public static let maximumRanges = 340

  public init(uids: [IDMapRange], gids: [IDMapRange]) throws(NamespaceError) {
    try Self.check(uids, name: "uids")
    try Self.check(gids, name: "gids")
    self.uids = uids
    self.gids = gids
  }

  static func check(_ ranges: [IDMapRange], name: String) throws(NamespaceError) {
    guard !ranges.isEmpty else {
      throw NamespaceError("userns_options.\(name) is empty: a pod's user namespace needs \(name) mappings")
    }
    guard ranges.count <= maximumRanges else {
      throw NamespaceError("userns_options.\(name) has \(ranges.count) ranges; the kernel takes at most \(maximumRanges)")
    }
    let limit = UInt64(UInt32.max)
    for range in ranges {
      guard range.size > 0, range.containerEnd <= limit, range.hostEnd <= limit else {
        throw NamespaceError(
          "userns_options.\(name) range container_id \(range.containerID), host_id \(range.hostID), length \(range.size) is empty or goes past 4294967295")
      }
    }
    for (index, range) in ranges.enumerated() {
      for other in ranges[(index + 1)...] {
        if UInt64(range.containerID) < other.containerEnd && UInt64(other.containerID) < range.containerEnd {
          throw NamespaceError("userns_options.\(name) ranges overlap inside the container (at \(max(range.containerID, other.containerID)))")
        }
        if UInt64(range.hostID) < other.hostEnd && UInt64(other.hostID) < range.hostEnd {
          throw NamespaceError("userns_options.\(name) ranges overlap on the host (at \(max(range.hostID, other.hostID)))")
        }
      }
    }
    // runc needs the container's root to be someone on the host.
    guard ranges.contains(where: { $0.containerID == 0 }) else {
      throw NamespaceError("userns_options.\(name) does not map the container's ID 0 (root)")
    }
  }

  /// The host ID of a container ID, nil when unmapped.
  public static func host(_ id: UInt32, in ranges: [IDMapRange]) -> UInt32? {
    for range in ranges where UInt64(id) >= UInt64(range.containerID) && UInt64(id) < range.containerEnd {
      return range.hostID + (id - range.containerID)
    }
    return nil
  }

  public var hostRootUID: UInt32 { Self.host(0, in: uids) ?? 0 }
  public var hostRootGID: UInt32 { Self.host(0, in: gids) ?? 0 }

  /// The text of /proc/<pid>/uid_map or gid_map.
  static func mapText(_ ranges: [IDMapRange]) -> String {
    ranges.map { "\($0.containerID) \($0.hostID) \($0.size)\n" }.joined()
  }

  /// Writes the maps of the process `pid`, which has just unshared its
  /// user namespace. The writer is privileged in the parent namespace, so
  /// setgroups(2) stays allowed inside (supplemental groups work).
  func write(toProcess pid: pid_t) throws(NamespaceError) {
    for (file, ranges) in [("uid_map", uids), ("gid_map", gids)] {
      let path = "/proc/\(pid)/\(file)"
      let fd = open(path, O_WRONLY | O_CLOEXEC)
      guard fd >= 0 else { throw NamespaceError("cannot open \(path): \(SystemError("open").reason)") }
      defer { close(fd) }
      do {
        // The kernel takes a map in a single write.
        try Files.writeAll(fd, Array(Self.mapText(ranges).utf8))
      } catch {
        throw NamespaceError("cannot write the user namespace's \(file) (\(Self.mapText(ranges).split(separator: "\n").joined(separator: ", "))): \(error.reason)")
      }
    }
  }
}

/// User namespaces made for their file descriptor alone: the ID mapping an
/// idmapped mount goes through.
public enum UserNamespaces {
  /// A descriptor of a new user namespace with `mappings`; no process is
  /// left in it. The caller closes it.
  public static func open(_ mappings: UserNamespaceMappings) throws(NamespaceError) -> Int32 {
    let child = try UserNamespaceChild()
    defer { child.finish() }
    try mappings.write(toProcess: child.pid)
    let fd = Glibc.open("/proc/\(child.pid)/ns/user", O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw NamespaceError("cannot open the new user namespace: \(SystemError("open").reason)") }
    return fd
  }

  /// Why this kernel or the file system of `directory` cannot do what a
  /// pod with its own user namespace needs, nil when it can: a user
  /// namespace, an idmapped mount of a directory there, and an overlay on
  /// top of it (what container roots are; Linux 5.19 or later).
  public static func unsupportedReason(directory: String) -> String? {
    let userns: Int32
    do {
      userns = try open(
        UserNamespaceMappings(
          uids: [IDMapRange(containerID: 0, hostID: 100_000, size: 65536)],
          gids: [IDMapRange(containerID: 0, hostID: 100_000, size: 65536)]))
    } catch {
      return error.description
    }
    defer { close(userns) }
    let probe: String
    do {
      probe = try Files.makeTemporaryDirectory(in: directory, prefix: ".userns-probe-")
      for name in ["lower", "mapped", "upper", "work", "merged"] { try Files.makeDirectories(probe + "/" + name, mode: 0o755) }
    } catch {
      return "cannot try idmapped mounts in \(directory): \(error)"
    }
    defer {
      for name in ["merged", "mapped"] { umount2(probe + "/" + name, Int32(MNT_DETACH)) }
      Files.removeTree(probe)
    }
    let tree = crio_idmapped_clone(probe + "/lower", userns, 0)
    guard tree >= 0 else {
      return "idmapped mounts of \(directory) fail (\(SystemError("mount_setattr").reason)); they need Linux 5.12 or later and a file system that supports them"
    }
    defer { close(tree) }
    guard crio_attach_mount(tree, probe + "/mapped") == 0 else {
      return "cannot attach an idmapped mount in \(directory): \(SystemError("move_mount").reason)"
    }
    let options = "lowerdir=\(probe)/mapped,upperdir=\(probe)/upper,workdir=\(probe)/work"
    guard mount("overlay", probe + "/merged", "overlay", 0, options) == 0 else {
      return "an overlay on idmapped layers fails (\(SystemError("mount").reason)); it needs Linux 5.19 or later"
    }
    return nil
  }
}

/// A forked child that has unshared its user namespace and waits for the
/// caller (see `crio_userns_fork`).
struct UserNamespaceChild {
  let pid: pid_t
  let channel: Int32

  init() throws(NamespaceError) {
    var channel: Int32 = -1
    let pid = crio_userns_fork(&channel)
    guard pid > 0 else {
      throw NamespaceError("cannot create a user namespace: \(SystemError("unshare").reason)")
    }
    self.pid = pid
    self.channel = channel
  }

  /// Has the child unshare `flags` inside its user namespace.
  func unshare(flags: Int32) throws(NamespaceError) {
    guard crio_userns_continue(channel, flags) == 0 else {
      throw NamespaceError("cannot create namespaces inside the pod's user namespace: \(SystemError("unshare").reason)")
    }
  }

  /// Lets the child exit and reaps it.
  func finish() {
    close(channel)
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
  }
}
