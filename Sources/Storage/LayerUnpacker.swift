import CSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Support

/// Writes the entries of one tar stream into a LayerDirectory, converting OCI
/// whiteouts to overlayfs's form. Every write goes through the directory's
/// descriptor walk (see LayerDirectory), so a hostile archive can fail the
/// unpack but never touch anything outside it.
struct LayerUnpacker: ~Copyable {
  private let directory: LayerDirectory
  /// Bytes of regular-file contents written.
  private(set) var contentBytes: UInt64 = 0
  /// Directory times are set last: creating their contents changes them.
  /// Keyed by components, so "./etc/" and "etc" are one directory.
  private var directoryTimes: [[[UInt8]]: (path: EntryPath, access: timespec, modification: timespec)] = [:]

  static let whiteoutPrefix: [UInt8] = Array(".wh.".utf8)
  static let opaqueMarker: [UInt8] = Array(".wh..wh..opq".utf8)
  /// aufs's own bookkeeping (".wh..wh.plnk" and the like): never content.
  static let metadataPrefix: [UInt8] = Array(".wh..wh.".utf8)

  init(into path: String) throws(StorageError) {
    directory = try LayerDirectory(path: path)
  }

  /// Unpacks every entry of `tar`, then sets the directories' times.
  mutating func unpack(_ tar: TarStream) throws(StorageError) {
    while let header = try tar.next() {
      let entry = try ArchiveEntry(header)
      try extract(entry, from: tar)
    }
    try applyDirectoryTimes()
  }

  private mutating func extract(_ entry: ArchiveEntry, from tar: TarStream) throws(StorageError) {
    let path = try EntryPath.entry(entry.path)
    // Anything beneath a ".wh." name is not content: a whiteout hides a name,
    // it never has children.
    if path.parent.contains(where: { $0.starts(with: Self.whiteoutPrefix) }) { return }
    if path.name.starts(with: Self.whiteoutPrefix) {
      try whiteout(path, entry)
      return
    }
    if let target = entry.hardlink {
      try hardlink(path, to: target)
      return
    }
    if path.isRoot {
      // "./" describes the layer root itself: take its owner and mode.
      guard entry.type == S_IFDIR else {
        throw .unsafePath(entry: entry.pathText, reason: "a \(Self.describe(entry.type)) cannot replace the layer root")
      }
      try makeDirectory(path, entry)
      return
    }
    switch entry.type {
    case S_IFREG: try file(path, entry, from: tar)
    case S_IFDIR: try makeDirectory(path, entry)
    case S_IFLNK: try symlink(path, entry)
    case S_IFCHR, S_IFBLK, S_IFIFO: try node(path, entry)
    default: throw .archive("\(entry.pathText): unsupported entry type \(String(entry.type, radix: 8))")
    }
  }

  // MARK: Entry kinds

  private mutating func file(_ path: EntryPath, _ entry: ArchiveEntry, from tar: TarStream) throws(StorageError) {
    let parent = try directory.openDirectory(path.parent, entry: path.text, create: true)
    try directory.clear(path.name, in: parent.fd, keepingDirectory: false, entry: path.text)
    // O_EXCL|O_NOFOLLOW: the name was just cleared, so anything there now
    // (a symlink above all) is refused rather than written through.
    let fd = withCString(path.name) { openat(parent.fd, $0, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600) }
    guard fd >= 0 else { throw .io(SystemError("openat", path: path.text)) }
    let file = OwnedDescriptor(fd)
    var end: Int64 = 0
    try tar.readData { block, offset throws(StorageError) in
      var written = 0
      while written < block.count {
        let n = retryingOnEINTR {
          pwrite(file.fd, block.baseAddress! + written, block.count - written, off_t(offset) + off_t(written))
        }
        guard n > 0 else { throw .io(SystemError("write", path: path.text)) }
        written += n
      }
      end = max(end, offset + Int64(block.count))
    }
    // A sparse file's last hole has no data block: the size sets its length.
    if entry.size > end {
      guard ftruncate(file.fd, off_t(entry.size)) == 0 else { throw .io(SystemError("ftruncate", path: path.text)) }
    }
    contentBytes += UInt64(entry.size)
    // Owner before mode (chown clears setuid/setgid), xattrs after both (a
    // chown drops security.capability), times last.
    guard fchown(file.fd, entry.uid, entry.gid) == 0 else { throw .io(SystemError("fchown", path: path.text)) }
    guard fchmod(file.fd, entry.permissions) == 0 else { throw .io(SystemError("fchmod", path: path.text)) }
    for xattr in entry.xattrs where Self.keeps(xattr.name) {
      let status = withCString(xattr.name) { name in
        xattr.value.withUnsafeBytes { fsetxattr(file.fd, name, $0.baseAddress, $0.count, 0) }
      }
      try Self.check(status, setting: xattr.name, on: path)
    }
    var times = [entry.accessTime, entry.modificationTime]
    guard futimens(file.fd, &times) == 0 else { throw .io(SystemError("futimens", path: path.text)) }
  }

  private mutating func makeDirectory(_ path: EntryPath, _ entry: ArchiveEntry) throws(StorageError) {
    let handle = try openOrCreateDirectory(path)
    guard fchown(handle.fd, entry.uid, entry.gid) == 0 else { throw .io(SystemError("fchown", path: path.text)) }
    guard fchmod(handle.fd, entry.permissions) == 0 else { throw .io(SystemError("fchmod", path: path.text)) }
    for xattr in entry.xattrs where Self.keeps(xattr.name) {
      let status = withCString(xattr.name) { name in
        xattr.value.withUnsafeBytes { fsetxattr(handle.fd, name, $0.baseAddress, $0.count, 0) }
      }
      try Self.check(status, setting: xattr.name, on: path)
    }
    directoryTimes[path.components] = (path, entry.accessTime, entry.modificationTime)
  }

  /// The directory an entry names, made if missing; an existing directory is
  /// kept (tar merges directories), anything else there is replaced.
  private func openOrCreateDirectory(_ path: EntryPath) throws(StorageError) -> OwnedDescriptor {
    if path.isRoot {
      return try directory.openDirectory([], entry: path.text, create: false)
    }
    let parent = try directory.openDirectory(path.parent, entry: path.text, create: true)
    let kept = try directory.clear(path.name, in: parent.fd, keepingDirectory: true, entry: path.text)
    if !kept {
      guard withCString(path.name, { mkdirat(parent.fd, $0, 0o700) }) == 0 else {
        throw .io(SystemError("mkdirat", path: path.text))
      }
    }
    let fd = withCString(path.name) { openat(parent.fd, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
    guard fd >= 0 else { throw .io(SystemError("openat", path: path.text)) }
    return OwnedDescriptor(fd)
  }

  private mutating func symlink(_ path: EntryPath, _ entry: ArchiveEntry) throws(StorageError) {
    guard let target = entry.symlink, !target.isEmpty else {
      throw .archive("\(path.text): symbolic link without a target")
    }
    let parent = try directory.openDirectory(path.parent, entry: path.text, create: true)
    try directory.clear(path.name, in: parent.fd, keepingDirectory: false, entry: path.text)
    // The target is only text stored in the link: it may name anything, and
    // nothing here ever follows it.
    let status = withCString(target) { target in withCString(path.name) { symlinkat(target, parent.fd, $0) } }
    guard status == 0 else { throw .io(SystemError("symlinkat", path: path.text)) }
    try finishNode(path, entry, in: parent.fd, setMode: false)
  }

  private mutating func node(_ path: EntryPath, _ entry: ArchiveEntry) throws(StorageError) {
    let parent = try directory.openDirectory(path.parent, entry: path.text, create: true)
    try directory.clear(path.name, in: parent.fd, keepingDirectory: false, entry: path.text)
    let device = entry.type == S_IFIFO ? 0 : makedev(entry.deviceMajor, entry.deviceMinor)
    let status = withCString(path.name) { mknodat(parent.fd, $0, entry.type | 0o600, device) }
    guard status == 0 else { throw .io(SystemError("mknodat", path: path.text)) }
    try finishNode(path, entry, in: parent.fd, setMode: true)
  }

  /// Owner, mode, xattrs and times of something that must not be opened
  /// (opening a device or fifo acts on it), by name in its parent.
  private func finishNode(_ path: EntryPath, _ entry: ArchiveEntry, in parent: Int32, setMode: Bool) throws(StorageError) {
    try withCString(path.name) { name throws(StorageError) in
      guard fchownat(parent, name, entry.uid, entry.gid, AT_SYMLINK_NOFOLLOW) == 0 else {
        throw .io(SystemError("fchownat", path: path.text))
      }
      // Just created by mknodat in a directory only this unpack writes, so
      // the name is the node itself, not a symlink to follow.
      if setMode && fchmodat(parent, name, entry.permissions, 0) != 0 {
        throw .io(SystemError("fchmodat", path: path.text))
      }
    }
    if !entry.xattrs.isEmpty {
      // No *at() xattr calls exist: reach the entry through the parent's
      // descriptor in /proc, which cannot be redirected, and lsetxattr, which
      // does not follow the last component.
      let viaProc = Array("/proc/self/fd/\(parent)/".utf8) + path.name
      for xattr in entry.xattrs where Self.keeps(xattr.name) {
        let status = withCString(viaProc) { file in
          withCString(xattr.name) { name in
            xattr.value.withUnsafeBytes { lsetxattr(file, name, $0.baseAddress, $0.count, 0) }
          }
        }
        try Self.check(status, setting: xattr.name, on: path)
      }
    }
    var times = [entry.accessTime, entry.modificationTime]
    let status = withCString(path.name) { utimensat(parent, $0, &times, AT_SYMLINK_NOFOLLOW) }
    guard status == 0 else { throw .io(SystemError("utimensat", path: path.text)) }
  }

  private mutating func hardlink(_ path: EntryPath, to rawTarget: [UInt8]) throws(StorageError) {
    let target = try EntryPath.linkTarget(rawTarget, of: path.text)
    guard !path.isRoot else { throw .unsafePath(entry: path.text, reason: "a hard link cannot replace the layer root") }
    guard !target.isRoot else { throw .unsafePath(entry: path.text, reason: "hard link to the layer root") }
    // A link to itself would remove its own target below.
    if target.components == path.components { return }
    let targetParent = try directory.openDirectory(target.parent, entry: path.text, create: false)
    guard let found = withCString(target.name, { statAt(targetParent.fd, $0) }) else {
      throw .archive("\(path.text): hard link target \"\(target.text)\" is not in the layer")
    }
    guard !isDirectory(found) else {
      throw .archive("\(path.text): hard link target \"\(target.text)\" is a directory")
    }
    let parent = try directory.openDirectory(path.parent, entry: path.text, create: true)
    try directory.clear(path.name, in: parent.fd, keepingDirectory: false, entry: path.text)
    // Flags 0: a target that is a symlink is linked itself, never followed.
    let status = withCString(target.name) { from in withCString(path.name) { linkat(targetParent.fd, from, parent.fd, $0, 0) } }
    guard status == 0 else {
      if errno == ENOENT { throw .archive("\(path.text): hard link target \"\(target.text)\" is not in the layer") }
      throw .io(SystemError("linkat", path: path.text))
    }
  }

  // MARK: Whiteouts

  /// ".wh.<name>" becomes overlayfs's whiteout, a 0/0 character device named
  /// <name>; ".wh..wh..opq" marks its directory opaque.
  private mutating func whiteout(_ path: EntryPath, _ entry: ArchiveEntry) throws(StorageError) {
    if path.name == Self.opaqueMarker {
      let parent = try directory.openDirectory(path.parent, entry: path.text, create: true)
      let value: [UInt8] = [UInt8(ascii: "y")]
      let status = value.withUnsafeBytes { fsetxattr(parent.fd, "trusted.overlay.opaque", $0.baseAddress, $0.count, 0) }
      guard status == 0 else { throw .io(SystemError("fsetxattr trusted.overlay.opaque", path: path.text)) }
      return
    }
    if path.name.starts(with: Self.metadataPrefix) { return }
    let hidden = Array(path.name.dropFirst(Self.whiteoutPrefix.count))
    guard !hidden.isEmpty, hidden != [46], hidden != [46, 46] else {
      throw .unsafePath(entry: path.text, reason: "whiteout of \"\(String(decoding: hidden, as: UTF8.self))\"")
    }
    let parent = try directory.openDirectory(path.parent, entry: path.text, create: true)
    try directory.clear(hidden, in: parent.fd, keepingDirectory: false, entry: path.text)
    let status = withCString(hidden) { mknodat(parent.fd, $0, S_IFCHR, makedev(0, 0)) }
    guard status == 0 else { throw .io(SystemError("mknodat", path: path.text)) }
    let owned = withCString(hidden) { fchownat(parent.fd, $0, entry.uid, entry.gid, AT_SYMLINK_NOFOLLOW) }
    guard owned == 0 else { throw .io(SystemError("fchownat", path: path.text)) }
  }

  // MARK: Helpers

  private mutating func applyDirectoryTimes() throws(StorageError) {
    for (path, access, modification) in directoryTimes.values {
      var values = [access, modification]
      if path.isRoot {
        guard futimens(directory.root.fd, &values) == 0 else { throw .io(SystemError("futimens", path: ".")) }
        continue
      }
      // A later entry may have replaced the directory (or its parent): its
      // times went with it.
      guard let parent = try? directory.openDirectory(path.parent, entry: path.text, create: false) else { continue }
      guard let info = withCString(path.name, { statAt(parent.fd, $0) }), isDirectory(info) else { continue }
      let status = withCString(path.name) { utimensat(parent.fd, $0, &values, AT_SYMLINK_NOFOLLOW) }
      guard status == 0 else { throw .io(SystemError("utimensat", path: path.text)) }
    }
  }

  /// overlayfs reads its own xattrs from layers (opaque, redirect, metacopy):
  /// an image must not set them directly; whiteouts are converted above.
  static func keeps(_ name: [UInt8]) -> Bool {
    !name.starts(with: Array("trusted.overlay.".utf8)) && !name.starts(with: Array("user.overlay.".utf8))
  }

  /// A filesystem without xattr support (or a namespace it refuses, such as
  /// security.selinux without SELinux) drops the xattr, as containers/storage
  /// does; any other failure fails the unpack.
  private static func check(_ status: Int32, setting name: [UInt8], on path: EntryPath) throws(StorageError) {
    guard status != 0 else { return }
    if errno == ENOTSUP || errno == EOPNOTSUPP || errno == EPERM { return }
    throw .io(SystemError("setxattr \(String(decoding: name, as: UTF8.self))", path: path.text))
  }

  static func describe(_ type: mode_t) -> String {
    switch type {
    case S_IFREG: "regular file"
    case S_IFLNK: "symbolic link"
    case S_IFCHR: "character device"
    case S_IFBLK: "block device"
    case S_IFIFO: "fifo"
    default: "entry of type \(String(type, radix: 8))"
    }
  }
}
