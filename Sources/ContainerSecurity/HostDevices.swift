import OCI
import Support

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Why a device cannot be given to a container.
public enum DeviceError: Error, Sendable, Equatable, CustomStringConvertible {
  case invalidPermissions(String)
  case invalidSpecification(String, reason: String)
  case notFound(String)
  case inaccessible(String, reason: String)
  /// Neither a character or block device nor a directory.
  case notADevice(String)
  /// From an annotation, a host path not in `allowed_devices`.
  case notAllowed(String)

  public var description: String {
    switch self {
    case .invalidPermissions(let text):
      "invalid device permissions \(String(reflecting: text)): expected one or more of \"r\", \"w\" and \"m\", each at most once"
    case .invalidSpecification(let text, let reason):
      "invalid device \(String(reflecting: text)): \(reason)"
    case .notFound(let path): "device \(path) does not exist on the host"
    case .inaccessible(let path, let reason): "cannot inspect device \(path): \(reason)"
    case .notADevice(let path): "\(path) is not a character or block device"
    case .notAllowed(let path): "device \(path) is not in allowed_devices"
    }
  }
}

/// A device node for the container and the cgroup rule that lets it use it.
public struct ContainerDevice: Sendable, Hashable {
  public var device: Spec.Device
  public var rule: Spec.DeviceCgroup
  public init(device: Spec.Device, rule: Spec.DeviceCgroup) {
    self.device = device
    self.rule = rule
  }
}

/// `host[:container][:permissions]`, the form of CRI-O's `additional_devices`
/// and of the `io.kubernetes.cri-o.Devices` annotation.
public struct DeviceSpecification: Sendable, Hashable {
  public var hostPath: String
  public var containerPath: String
  public var permissions: String

  public init(hostPath: String, containerPath: String, permissions: String = "rwm") {
    self.hostPath = hostPath
    self.containerPath = containerPath
    self.permissions = permissions
  }

  /// CRI-O's parseDevice: "/dev/sdc", "/dev/sdc:rw", "/dev/sdc:/dev/xvdc",
  /// "/dev/sdc:/dev/xvdc:rwm". Both paths must be absolute and the container
  /// path must be under /dev/.
  public init(parsing text: String) throws(DeviceError) {
    let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
    guard (1...3).contains(parts.count) else {
      throw .invalidSpecification(text, reason: "expected host[:container][:permissions]")
    }
    var permissions = "rwm"
    var container = ""
    if parts.count == 3 {
      guard HostDevices.isValidPermissions(parts[2]) else { throw .invalidPermissions(parts[2]) }
      permissions = parts[2]
    }
    if parts.count >= 2 {
      if parts.count == 2 && HostDevices.isValidPermissions(parts[1]) {
        permissions = parts[1]
      } else {
        guard parts[1].hasPrefix("/") else {
          throw .invalidSpecification(text, reason: "\(String(reflecting: parts[1])) is neither an absolute path nor permissions")
        }
        container = parts[1]
      }
    }
    let host = parts[0]
    guard host.hasPrefix("/") else {
      throw .invalidSpecification(text, reason: "the host path must be absolute")
    }
    if container.isEmpty { container = host }
    guard container.hasPrefix("/dev/") else {
      throw .invalidSpecification(text, reason: "the container path \(container) is not under /dev/")
    }
    for path in [host, container] where path.split(separator: "/").contains("..") || path.utf8.contains(0) {
      throw .invalidSpecification(text, reason: "\(String(reflecting: path)) contains \"..\" or a NUL byte")
    }
    self.init(hostPath: host, containerPath: container, permissions: permissions)
  }
}

/// Host device nodes turned into runtime-spec devices.
public enum HostDevices {
  /// A non-empty combination of r, w and m, each at most once.
  public static func isValidPermissions(_ text: String) -> Bool {
    guard !text.isEmpty, text.count <= 3 else { return false }
    var seen: Set<Character> = []
    for character in text {
      guard "rwm".contains(character), seen.insert(character).inserted else { return false }
    }
    return true
  }

  /// The device at `hostPath` (symlinks followed) as `containerPath`; a
  /// directory gives every device below it (symlinks inside are skipped),
  /// each at the same place under `containerPath`, as CRI-O does for CRI
  /// `devices`. An empty `permissions` means "rwm".
  public static func resolve(
    hostPath: String, containerPath: String, permissions: String
  ) throws(DeviceError) -> [ContainerDevice] {
    let access = permissions.isEmpty ? "rwm" : permissions
    guard isValidPermissions(access) else { throw .invalidPermissions(permissions) }
    guard let info = HostInfo.status(hostPath, followLinks: true) else {
      let code = errno
      if code == ENOENT || code == ENOTDIR { throw .notFound(hostPath) }
      throw .inaccessible(hostPath, reason: String(cString: strerror(code)))
    }
    if let device = device(from: info, path: containerPath, access: access) { return [device] }
    guard info.st_mode & S_IFMT == S_IFDIR else { throw .notADevice(hostPath) }
    let hostBase = trimmingTrailingSlashes(hostPath)
    let containerBase = trimmingTrailingSlashes(containerPath)
    var result: [ContainerDevice] = []
    walk(hostBase.isEmpty ? "/" : hostBase) { path, info in
      // path is hostBase + "/" + relative.
      let target = containerBase + path.dropFirst(hostBase.count)
      if let device = device(from: info, path: target, access: access) { result.append(device) }
    }
    return result
  }

  /// One device node (no directory expansion), e.g. for `allowed_devices` checks.
  public static func device(
    atHostPath hostPath: String, containerPath: String? = nil, permissions: String = "rwm"
  ) throws(DeviceError) -> ContainerDevice {
    guard isValidPermissions(permissions) else { throw .invalidPermissions(permissions) }
    guard let info = HostInfo.status(hostPath, followLinks: true) else {
      let code = errno
      if code == ENOENT || code == ENOTDIR { throw .notFound(hostPath) }
      throw .inaccessible(hostPath, reason: String(cString: strerror(code)))
    }
    guard let device = device(from: info, path: containerPath ?? hostPath, access: permissions) else {
      throw .notADevice(hostPath)
    }
    return device
  }

  /// CRI-O's `additional_devices` (given to every container): each entry
  /// parsed and resolved; empty entries are skipped.
  public static func additionalDevices(_ entries: [String]) throws(DeviceError) -> [ContainerDevice] {
    var result: [ContainerDevice] = []
    for entry in entries where !entry.isEmpty {
      let spec = try DeviceSpecification(parsing: entry)
      result.append(try device(atHostPath: spec.hostPath, containerPath: spec.containerPath, permissions: spec.permissions))
    }
    return result
  }

  /// CRI-O's `allowed_devices`: absolute host paths that the devices
  /// annotation may name.
  public static func parseAllowedDevices(_ entries: [String]) throws(DeviceError) -> Set<String> {
    var result: Set<String> = []
    for entry in entries where !entry.isEmpty {
      guard entry.hasPrefix("/"), !entry.contains(":"), !entry.split(separator: "/").contains("..") else {
        throw .invalidSpecification(entry, reason: "allowed_devices entries are absolute host paths")
      }
      result.insert(entry)
    }
    return result
  }

  /// The `io.kubernetes.cri-o.Devices` annotation: comma-separated device
  /// specifications whose host paths must all be in `allowed`.
  public static func annotationDevices(_ value: String, allowed: Set<String>) throws(DeviceError) -> [ContainerDevice] {
    var result: [ContainerDevice] = []
    for entry in value.split(separator: ",", omittingEmptySubsequences: true) {
      let spec = try DeviceSpecification(parsing: String(entry))
      guard allowed.contains(spec.hostPath) else { throw .notAllowed(spec.hostPath) }
      result.append(try device(atHostPath: spec.hostPath, containerPath: spec.containerPath, permissions: spec.permissions))
    }
    return result
  }

  /// Directory names under /dev that runc's HostDevices skips.
  public static let skippedDirectories: Set<String> = ["pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev"]

  /// Every character and block device under `root` for a privileged
  /// container, as runc's HostDevices and CRI-O list them: symlinks,
  /// FIFOs, /dev/console, 0:0 nodes and the directories in
  /// `skippedDirectories` are left out. Sorted by path.
  public static func privilegedDevices(root: String = "/dev") -> [Spec.Device] {
    var result: [Spec.Device] = []
    walk(root, skipping: skippedDirectories) { path, info in
      if path == root + "/console" { return }
      guard let device = device(from: info, path: path, access: "rwm")?.device else { return }
      if device.major == 0 && device.minor == 0 { return }
      result.append(device)
    }
    return result.sorted { $0.path < $1.path }
  }

  // MARK: - Internals

  static func trimmingTrailingSlashes(_ path: String) -> String {
    var result = Substring(path)
    while result.hasSuffix("/") { result = result.dropLast() }
    return String(result)
  }

  /// Major and minor numbers of a dev_t (glibc's gnu_dev_major/minor).
  public static func split(_ dev: UInt64) -> (major: Int64, minor: Int64) {
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & 0xffff_f000)
    let minor = (dev & 0xff) | ((dev >> 12) & 0xffff_ff00)
    return (Int64(major), Int64(minor))
  }

  /// glibc's gnu_dev_makedev.
  public static func makeDevice(major: UInt64, minor: UInt64) -> UInt64 {
    ((major & 0xffff_f000) << 32) | ((major & 0xfff) << 8) | ((minor & 0xffff_ff00) << 12) | (minor & 0xff)
  }

  static func device(from info: stat, path: String, access: String) -> ContainerDevice? {
    let type: String
    switch info.st_mode & S_IFMT {
    case S_IFCHR: type = "c"
    case S_IFBLK: type = "b"
    default: return nil
    }
    let (major, minor) = split(UInt64(info.st_rdev))
    let device = Spec.Device(
      type: type, path: path, major: major, minor: minor, fileMode: UInt32(info.st_mode & 0o7777),
      uid: info.st_uid, gid: info.st_gid)
    let rule = Spec.DeviceCgroup(allow: true, type: type, major: major, minor: minor, access: access)
    return ContainerDevice(device: device, rule: rule)
  }

  /// Depth-first over `directory` with lstat (symlinks are not followed),
  /// in name order; unreadable entries are skipped.
  static func walk(_ directory: String, skipping: Set<String> = [], _ visit: (String, stat) -> Void) {
    guard let names = try? Files.list(directory) else { return }
    for name in names.sorted() {
      let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
      guard let info = HostInfo.status(path, followLinks: false) else { continue }
      if info.st_mode & S_IFMT == S_IFDIR {
        if !skipping.contains(name) { walk(path, skipping: skipping, visit) }
      } else {
        visit(path, info)
      }
    }
  }
}
