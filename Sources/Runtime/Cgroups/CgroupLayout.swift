import Support

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The cgroup version of a host: v2 when /sys/fs/cgroup itself is a cgroup2
/// mount (unified mode), v1 otherwise (legacy, or hybrid with a cgroup2 mount
/// beside the v1 hierarchies, which runc also treats as v1).
public enum CgroupVersion: String, Sendable, Hashable {
  case v1, v2
}

/// Where the cgroup hierarchies of this host are mounted.
public struct CgroupLayout: Sendable, Hashable {
  public let version: CgroupVersion
  /// v2: the hierarchy root (normally /sys/fs/cgroup). v1 hybrid: the cgroup2
  /// mount beside the v1 hierarchies (normally /sys/fs/cgroup/unified), if any.
  public let unifiedMount: String?
  /// v1 only: each controller ("memory", "cpuacct", "name=systemd"...) and the
  /// mount point of the hierarchy it is attached to (co-mounted controllers,
  /// like "cpu,cpuacct", share one).
  public let controllerMounts: [String: String]

  /// `CGROUP2_SUPER_MAGIC` from <linux/magic.h>.
  public static let cgroup2SuperMagic: Int = 0x6367_7270

  /// A v2 (unified) layout rooted at `root`.
  public static func v2(root: String = "/sys/fs/cgroup") -> CgroupLayout {
    CgroupLayout(version: .v2, unifiedMount: root, controllerMounts: [:])
  }

  /// A v1 layout with the given controller mounts.
  public static func v1(controllerMounts: [String: String], unifiedMount: String? = nil) -> CgroupLayout {
    CgroupLayout(version: .v1, unifiedMount: unifiedMount, controllerMounts: controllerMounts)
  }

  init(version: CgroupVersion, unifiedMount: String?, controllerMounts: [String: String]) {
    self.version = version
    self.unifiedMount = unifiedMount
    self.controllerMounts = controllerMounts
  }

  /// The host's layout, detected once.
  /// The host's hierarchies, read once for the process (nil: none found).
  public static let host: CgroupLayout? = try? current()

  public static func current() throws(CgroupError) -> CgroupLayout {
    try detected.get()
  }

  private static let detected: Result<CgroupLayout, CgroupError> = {
    do throws(CgroupError) {
      return .success(try detect())
    } catch {
      return .failure(error)
    }
  }()

  /// Detects the layout as runc does: the filesystem type of `cgroupRoot`
  /// decides the version; on v1 each controller's mount is found in
  /// `mountInfoPath`.
  public static func detect(
    cgroupRoot: String = "/sys/fs/cgroup", mountInfoPath: String = "/proc/self/mountinfo"
  ) throws(CgroupError) -> CgroupLayout {
    let text: String
    do { text = try Files.read(mountInfoPath) } catch { throw .system(error) }
    let entries = MountInfoEntry.parse(text)
    let type: Int
    if let magic = try filesystemMagic(cgroupRoot) {
      type = magic
    } else {
      // No statfs symbol: the topmost mount at the root says the same.
      let top = entries.last { $0.mountPoint == cgroupRoot }
      type = top?.filesystemType == "cgroup2" ? cgroup2SuperMagic : 0
    }
    if type == cgroup2SuperMagic {
      return .v2(root: cgroupRoot)
    }
    let layout = fromMountInfo(entries)
    guard !layout.controllerMounts.isEmpty else {
      throw .noCgroupFilesystem("\(cgroupRoot) is not cgroup2 and \(mountInfoPath) lists no cgroup v1 hierarchy")
    }
    return layout
  }

  /// `statfs(2)`'s `f_type` of `path`. Swift's Glibc module leaves out
  /// <sys/statfs.h>, so the libc function is looked up at run time; nil when
  /// it cannot be found.
  static func filesystemMagic(_ path: String) throws(CgroupError) -> Int? {
    typealias StatfsFunction = @convention(c) (UnsafePointer<CChar>, UnsafeMutableRawPointer) -> Int32
    guard let libc = dlopen(nil, RTLD_NOW), let symbol = dlsym(libc, "statfs") else { return nil }
    let function = unsafeBitCast(symbol, to: StatfsFunction.self)
    // struct statfs is 120 bytes on 64-bit Linux, 64 on 32-bit; f_type comes
    // first, as a long (an unsigned int on s390x).
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: 512, alignment: 16)
    defer { buffer.deallocate() }
    buffer.initializeMemory(as: UInt8.self, repeating: 0, count: 512)
    guard function(path, buffer) == 0 else {
      throw .noCgroupFilesystem("statfs \(path): \(SystemError("statfs").reason)")
    }
    #if arch(s390x)
    return Int(buffer.load(as: UInt32.self))
    #else
    return buffer.load(as: Int.self)
    #endif
  }

  /// A v1 layout from mount table entries: every `cgroup` mount's controllers
  /// (from its super options) and the first `cgroup2` mount. When a hierarchy
  /// is mounted more than once, a mount of its root wins over a bind mount of
  /// a sub-cgroup, and otherwise the first one listed.
  public static func fromMountInfo(_ entries: [MountInfoEntry]) -> CgroupLayout {
    var mounts: [String: (path: String, isRoot: Bool)] = [:]
    var unified: String?
    for entry in entries {
      switch entry.filesystemType {
      case "cgroup2":
        if unified == nil { unified = entry.mountPoint }
      case "cgroup":
        for controller in controllers(fromSuperOptions: entry.superOptions) {
          let isRoot = entry.root == "/"
          if let existing = mounts[controller], existing.isRoot || !isRoot { continue }
          mounts[controller] = (entry.mountPoint, isRoot)
        }
      default: continue
      }
    }
    return .v1(controllerMounts: mounts.mapValues(\.path), unifiedMount: unified)
  }

  /// Options of a v1 cgroup mount that name no controller.
  private static let nonControllerOptions: Set<String> = [
    "rw", "ro", "xattr", "noprefix", "clone_children", "cpuset_v2_mode", "favordynmods",
  ]

  static func controllers(fromSuperOptions options: String) -> [String] {
    options.split(separator: ",").map(String.init).filter { option in
      if nonControllerOptions.contains(option) { return false }
      if option.hasPrefix("name=") { return true }
      return !option.contains("=")
    }
  }

  /// Every distinct hierarchy mount: the v2 root, or each v1 hierarchy (plus
  /// the hybrid cgroup2 mount), sorted.
  public var hierarchyMounts: [String] {
    switch version {
    case .v2: return unifiedMount.map { [$0] } ?? []
    case .v1:
      var all = Set(controllerMounts.values)
      if let unifiedMount { all.insert(unifiedMount) }
      return all.sorted()
    }
  }

  /// The directory of the cgroup at `path` (inside the hierarchy) for
  /// `controller` on v1, or in the unified hierarchy on v2 (where the
  /// controller is ignored); nil when that v1 controller is not mounted.
  public func directory(for path: String, controller: String) throws(CgroupError) -> String? {
    let normalized = try CgroupPath.normalize(path)
    let base: String?
    switch version {
    case .v2: base = unifiedMount
    case .v1: base = controllerMounts[controller]
    }
    guard let base else { return nil }
    return normalized == "/" ? base : base + normalized
  }
}

