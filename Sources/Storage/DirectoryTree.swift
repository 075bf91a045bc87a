#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Support

/// Walks and removes directory trees relative to directory descriptors,
/// never following symlinks. Unpacked layers are shaped by whoever built the
/// image, so these walks must not trust path strings (a tree can be deeper than
/// PATH_MAX) and must not hold one descriptor per level (a tree can be deeper
/// than the descriptor limit): only the current directory is open, and the walk
/// climbs back through "..", checking it lands on the directory it came from.
enum DirectoryTree {
  struct Entry {
    var name: [UInt8]
    var info: stat
  }

  private struct Frame {
    var name: [UInt8]
    var device: UInt
    var inode: UInt
    var pending: [[UInt8]]
  }

  /// Visits everything beneath the directory `top` (not `top` itself):
  /// `visit` sees every entry with the descriptor of the directory holding it,
  /// before any directory is entered; `leave` is called with the parent's
  /// descriptor once a subdirectory's contents are done.
  static func walk(
    _ top: consuming OwnedDescriptor,
    visit: (Int32, Entry) throws(SystemError) -> Void,
    leave: (Int32, [UInt8]) throws(SystemError) -> Void
  ) throws(SystemError) {
    var current = top
    var stack = [try enter(current.fd, name: [], visit: visit)]
    while !stack.isEmpty {
      if let next = stack[stack.count - 1].pending.popLast() {
        let child = withCString(next) { openat(current.fd, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        if child < 0 {
          // Gone or replaced since it was listed: nothing of it to visit.
          if errno == ENOENT || errno == ENOTDIR || errno == ELOOP { continue }
          throw SystemError("openat", path: String(decoding: next, as: UTF8.self))
        }
        current = OwnedDescriptor(child)
        stack.append(try enter(current.fd, name: next, visit: visit))
        continue
      }
      let done = stack.removeLast()
      guard let parent = stack.last else { break }
      let up = openat(current.fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
      guard up >= 0 else { throw SystemError("openat ..") }
      current = OwnedDescriptor(up)
      var info = stat()
      guard fstat(current.fd, &info) == 0 else { throw SystemError("fstat") }
      guard UInt(info.st_dev) == parent.device && UInt(info.st_ino) == parent.inode else {
        // Something moved the tree under the walk; stop rather than act elsewhere.
        throw SystemError(operation: "walk (directory moved)", path: String(decoding: done.name, as: UTF8.self), code: ESTALE)
      }
      try leave(current.fd, done.name)
    }
  }

  private static func enter(_ fd: Int32, name: [UInt8], visit: (Int32, Entry) throws(SystemError) -> Void) throws(SystemError) -> Frame {
    var info = stat()
    guard fstat(fd, &info) == 0 else { throw SystemError("fstat") }
    var frame = Frame(name: name, device: UInt(info.st_dev), inode: UInt(info.st_ino), pending: [])
    for entry in try list(fd) {
      try visit(fd, entry)
      if isDirectory(entry.info) { frame.pending.append(entry.name) }
    }
    return frame
  }

  /// The entries of an open directory with their lstat, read completely
  /// before any is acted on (removing entries while reading is unspecified).
  static func list(_ fd: Int32) throws(SystemError) -> [Entry] {
    let copy = dup(fd)
    guard copy >= 0 else { throw SystemError("dup") }
    guard let dir = fdopendir(copy) else {
      close(copy)
      throw SystemError("fdopendir")
    }
    defer { closedir(dir) }
    rewinddir(dir)
    var entries: [Entry] = []
    while true {
      errno = 0
      guard let record = readdir(dir) else {
        if errno != 0 { throw SystemError("readdir") }
        break
      }
      let name = Files.entryName(record)
      if name == [46] || name == [46, 46] { continue }
      guard let info = withCString(name, { statAt(fd, $0) }) else { continue }
      entries.append(Entry(name: name, info: info))
    }
    return entries
  }

  /// Removes `name` in the directory `parent` with everything beneath it.
  /// Missing is fine.
  static func remove(_ name: [UInt8], in parent: Int32) throws(SystemError) {
    guard let info = withCString(name, { statAt(parent, $0) }) else { return }
    let display = String(decoding: name, as: UTF8.self)
    guard isDirectory(info) else {
      guard withCString(name, { unlinkat(parent, $0, 0) }) == 0 || errno == ENOENT else { throw SystemError("unlinkat", path: display) }
      return
    }
    let fd = withCString(name) { openat(parent, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
    guard fd >= 0 else { throw SystemError("openat", path: display) }
    try walk(
      OwnedDescriptor(fd),
      visit: { dirfd, entry throws(SystemError) in
        guard !isDirectory(entry.info) else { return }
        guard withCString(entry.name, { unlinkat(dirfd, $0, 0) }) == 0 || errno == ENOENT else {
          throw SystemError("unlinkat", path: String(decoding: entry.name, as: UTF8.self))
        }
      },
      leave: { dirfd, child throws(SystemError) in
        guard withCString(child, { unlinkat(dirfd, $0, AT_REMOVEDIR) }) == 0 || errno == ENOENT else {
          throw SystemError("rmdir", path: String(decoding: child, as: UTF8.self))
        }
      }
    )
    guard withCString(name, { unlinkat(parent, $0, AT_REMOVEDIR) }) == 0 || errno == ENOENT else {
      throw SystemError("rmdir", path: display)
    }
  }

  /// Removes the tree at an absolute path the daemon itself laid out (its
  /// parent directories are the store's own, so the string walk to the parent
  /// is trusted; everything below is not).
  static func remove(path: String) throws(SystemError) {
    let (parentPath, name) = split(path)
    let parent = open(parentPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard parent >= 0 else {
      if errno == ENOENT { return }
      throw SystemError("open", path: parentPath)
    }
    let owned = OwnedDescriptor(parent)
    try remove(Array(name.utf8), in: owned.fd)
  }

  /// Bytes (st_size) and inodes under `path`, itself included, each inode
  /// counted once however many hard links it has.
  static func usage(of path: String) -> (bytes: UInt64, inodes: UInt64) {
    let fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
    guard fd >= 0 else { return (0, 0) }
    var top = stat()
    guard fstat(fd, &top) == 0 else {
      close(fd)
      return (0, 0)
    }
    var bytes = UInt64(top.st_size)
    var inodes: UInt64 = 1
    var linked = Set<[UInt]>()
    // An unreadable corner of the tree makes the figure low, not the call fail:
    // ImageFsInfo is a report.
    try? walk(
      OwnedDescriptor(fd),
      visit: { _, entry in
        if entry.info.st_nlink > 1 && !isDirectory(entry.info) {
          guard linked.insert([UInt(entry.info.st_dev), UInt(entry.info.st_ino)]).inserted else { return }
        }
        bytes += UInt64(max(0, entry.info.st_size))
        inodes += 1
      },
      leave: { _, _ in }
    )
    return (bytes, inodes)
  }

  static func split(_ path: String) -> (parent: String, name: String) {
    guard let slash = path.lastIndex(of: "/") else { return (".", path) }
    let parent = String(path[..<slash])
    return (parent.isEmpty ? "/" : parent, String(path[path.index(after: slash)...]))
  }
}

/// Bytes and inodes under a directory (hard-linked inodes once), for
/// ImageFsInfo's container file systems.
public enum DiskUsage {
  public static func of(_ path: String) -> (bytes: UInt64, inodes: UInt64) {
    DirectoryTree.usage(of: path)
  }
}
