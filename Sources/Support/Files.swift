import CSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// File helpers without Foundation: the daemon avoids Foundation to stay small.
public enum Files {
  public static func makeTemporaryDirectory(in parent: String = "/tmp", prefix: String) throws(SystemError) -> String {
    var template = Array("\(parent)/\(prefix)XXXXXX".utf8CString)
    guard let made = mkdtemp(&template) else { throw SystemError("mkdtemp") }
    return String(cString: made)
  }

  /// `mkdir -p`, with `mode` for the directories it creates. Something
  /// other than a directory (or a link to one) in the way is an error.
  public static func makeDirectories(_ path: String, mode: mode_t) throws(SystemError) {
    // The deepest first: mostly only the last level is missing, or none is
    // (one mkdir, where every level from the root took one each).
    guard !path.isEmpty, mkdir(path, mode) != 0 else { return }
    if errno == EEXIST { return try existingDirectory(path) }
    guard errno == ENOENT, let slash = path.lastIndex(of: "/"), slash != path.startIndex else {
      throw SystemError("mkdir", path: path)
    }
    try makeDirectories(String(path[..<slash]), mode: mode)
    if mkdir(path, mode) != 0 {
      guard errno == EEXIST else { throw SystemError("mkdir", path: path) }
      try existingDirectory(path)
    }
  }

  private static func existingDirectory(_ path: String) throws(SystemError) {
    guard kind(of: path) == .directory else { throw SystemError(operation: "mkdir", path: path, code: EEXIST) }
  }

  public static func write(_ path: String, _ contents: String, mode: mode_t = 0o644) throws(SystemError) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
    guard fd >= 0 else { throw SystemError("open", path: path) }
    defer { close(fd) }
    try writeAll(fd, Array(contents.utf8), path: path)
  }

  public static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String? = nil) throws(SystemError) {
    var written = 0
    while written < bytes.count {
      let n = bytes[written...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
      if n < 0 && errno == EINTR { continue }
      guard n > 0 else { throw SystemError("write", path: path) }
      written += n
    }
  }

  public static func read(_ path: String) throws(SystemError) -> String {
    String(decoding: try readBytes(path), as: UTF8.self)
  }

  public static func readBytes(_ path: String) throws(SystemError) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw SystemError("open", path: path) }
    defer { close(fd) }
    return try readAll(fd, path: path)
  }

  public enum Kind: Sendable, Equatable { case file, directory, other, missing }

  /// What is at `path`, following symlinks.
  public static func kind(of path: String) -> Kind {
    var info = stat()
    guard stat(path, &info) == 0 else { return .missing }
    switch info.st_mode & S_IFMT {
    case S_IFREG: return .file
    case S_IFDIR: return .directory
    default: return .other
    }
  }

  /// The names in a directory, without "." and "..", unsorted.
  public static func list(_ path: String) throws(SystemError) -> [String] {
    guard let dir = opendir(path) else { throw SystemError("opendir", path: path) }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
      let name = String(decoding: entryName(entry), as: UTF8.self)
      if name != "." && name != ".." { names.append(name) }
    }
    return names
  }

  /// The name of a `readdir` record, read in place. Copying the record
  /// (`entry.pointee`) reads a whole `struct dirent`, 280 bytes, but the
  /// kernel packs records by their real length, so the last one of a buffer
  /// can end a few bytes before an unmapped page: the copy then crashes.
  public static func entryName(_ entry: UnsafePointer<dirent>) -> [UInt8] {
    let offset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
    let start = UnsafeRawPointer(entry).advanced(by: offset).assumingMemoryBound(to: CChar.self)
    return Array(UnsafeRawBufferPointer(start: start, count: strlen(start)))
  }

  /// Reads until end of file.
  public static func readAll(_ fd: Int32, path: String? = nil) throws(SystemError) -> [UInt8] {
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
      let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
      if n < 0 && errno == EINTR { continue }
      guard n >= 0 else { throw SystemError("read", path: path) }
      if n == 0 { return out }
      out += chunk[..<n]
    }
  }

  /// `rm -rf`, never following symlinks.
  public static func removeTree(_ path: String) {
    var info = stat()
    guard lstat(path, &info) == 0 else { return }
    guard info.st_mode & S_IFMT == S_IFDIR else {
      if crio_is_mount_root(path) == 1 { umount2(path, Int32(MNT_DETACH)) }
      unlink(path)
      return
    }
    // A mount left below (a crash between mounting and unmounting) is
    // detached, never descended into: its files are not this tree's.
    if crio_is_mount_root(path) == 1 {
      guard umount2(path, Int32(MNT_DETACH)) == 0 else { return }
    }
    for name in (try? list(path)) ?? [] {
      removeTree(path + "/" + name)
    }
    rmdir(path)
  }
}

/// Writes one line to standard error (one write(2), so lines stay whole).
public func printToStandardError(_ line: String) {
  var bytes = Array((line.hasSuffix("\n") ? line : line + "\n").utf8)
  bytes.withUnsafeMutableBytes { _ = write(2, $0.baseAddress, $0.count) }
}

extension Files {
  /// The value of an extended attribute of `path` itself (not following a
  /// symlink), or nil when it has none.
  public static func extendedAttribute(_ name: String, of path: String) -> [UInt8]? {
    let size = lgetxattr(path, name, nil, 0)
    guard size >= 0 else { return nil }
    var value = [UInt8](repeating: 0, count: size)
    let read = value.withUnsafeMutableBytes { lgetxattr(path, name, $0.baseAddress, size) }
    return read >= 0 ? Array(value.prefix(read)) : nil
  }
}

extension Files {
  /// Creates `relative` (a clean path of plain components) below `root`
  /// one component at a time with `openat`/`mkdirat`, never following a
  /// symbolic link: a link planted in an image cannot make this create
  /// anything outside `root`. The directories it makes get `owner`.
  public static func makeDirectoriesBeneath(
    root: String, _ relative: String, mode: mode_t = 0o755, owner: (uid: uid_t, gid: gid_t) = (0, 0)
  ) throws(SystemError) {
    var current = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard current >= 0 else { throw SystemError("open", path: root) }
    defer { close(current) }
    var walked = root
    for component in relative.split(separator: "/") where component != "." {
      let name = String(component)
      walked += "/" + name
      guard name != ".." else { throw SystemError(operation: "mkdir", path: walked, code: EINVAL) }
      if mkdirat(current, name, mode) == 0 {
        if owner != (0, 0) && fchownat(current, name, owner.uid, owner.gid, AT_SYMLINK_NOFOLLOW) != 0 {
          throw SystemError("fchownat", path: walked)
        }
      } else if errno != EEXIST {
        throw SystemError("mkdirat", path: walked)
      }
      let next = openat(current, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
      guard next >= 0 else { throw SystemError("open", path: walked) }
      close(current)
      current = next
    }
  }
}
