#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Support

/// The directory a layer is unpacked into. Every path is reached from the
/// root's descriptor one component at a time with O_NOFOLLOW, so neither a
/// symlink from the archive nor one planted by an earlier entry can redirect a
/// write outside; the final component is then created with *at() calls
/// relative to its parent's descriptor.
struct LayerDirectory: ~Copyable {
  let root: OwnedDescriptor

  init(path: String) throws(StorageError) {
    let fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
    guard fd >= 0 else { throw .io(SystemError("open", path: path)) }
    root = OwnedDescriptor(fd)
  }

  /// The directory the last lookup found: tar lists a directory's entries
  /// together, so most lookups are for the same parent as the one before.
  private let recent = RecentDirectory()

  /// Opens the directory `components` names inside the root. With `create`,
  /// missing directories are made (0755, as tar makes implied parents).
  /// A symlink on the way is an escape attempt; anything else that is not a
  /// directory is a malformed archive.
  func openDirectory(_ components: ArraySlice<[UInt8]>, entry: String, create: Bool) throws(StorageError) -> OwnedDescriptor {
    if let cached = recent.descriptor(for: components) {
      return cached
    }
    let start = openat(root.fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard start >= 0 else { throw .io(SystemError("openat", path: ".")) }
    var current = OwnedDescriptor(start)
    for component in components {
      let next: Int32 = withCString(component) { name in
        let found = openat(current.fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard found < 0 && errno == ENOENT && create else { return found }
        if mkdirat(current.fd, name, 0o755) == 0 {
          // mkdirat's mode is cut by the umask; tar's implied parents are 0755.
          fchmodat(current.fd, name, 0o755, 0)
        }
        return openat(current.fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
      }
      guard next >= 0 else {
        let code = errno
        let shown = String(decoding: component, as: UTF8.self)
        let found = withCString(component) { statAt(current.fd, $0) }
        if let found, isSymlink(found) {
          throw .unsafePath(entry: entry, reason: "path component \"\(shown)\" is a symbolic link")
        }
        if let found, !isDirectory(found) {
          throw .archive("\(entry): path component \"\(shown)\" is not a directory")
        }
        if found == nil {
          throw .archive("\(entry): path component \"\(shown)\" does not exist")
        }
        throw .io(SystemError(operation: "openat", path: entry, code: code))
      }
      current = OwnedDescriptor(next)
    }
    recent.remember(components, current.fd)
    return current
  }

  /// Clears the way for a new entry `name` in `parent`: whatever is there is
  /// removed (a directory with its contents), except a directory when the new
  /// entry is a directory too (tar merges those). Returns whether a directory
  /// was kept.
  @discardableResult
  func clear(_ name: [UInt8], in parent: Int32, keepingDirectory: Bool, entry: String) throws(StorageError) -> Bool {
    guard let existing = withCString(name, { statAt(parent, $0) }) else { return false }
    if isDirectory(existing) {
      if keepingDirectory { return true }
      // The remembered directory may be inside what goes.
      recent.forget()
      do {
        try DirectoryTree.remove(name, in: parent)
      } catch {
        throw .io(error)
      }
      return false
    }
    guard withCString(name, { unlinkat(parent, $0, 0) }) == 0 || errno == ENOENT else {
      throw .io(SystemError("unlinkat", path: entry))
    }
    return false
  }
}

/// One remembered directory descriptor and the path it was reached by. Only
/// the unpack writes in the layer, and every removal of a directory forgets
/// it, so the descriptor always is the directory that path names.
private final class RecentDirectory {
  private var components: ArraySlice<[UInt8]>?
  private var fd: Int32 = -1

  deinit { forget() }

  /// A descriptor of its own for the caller, or nil when `path` is not the
  /// remembered one.
  func descriptor(for path: ArraySlice<[UInt8]>) -> OwnedDescriptor? {
    guard fd >= 0, let components, components.elementsEqual(path) else { return nil }
    let copy = fcntl(fd, F_DUPFD_CLOEXEC, 0)
    return copy >= 0 ? OwnedDescriptor(copy) : nil
  }

  func remember(_ path: ArraySlice<[UInt8]>, _ directory: Int32) {
    forget()
    let copy = fcntl(directory, F_DUPFD_CLOEXEC, 0)
    guard copy >= 0 else { return }
    components = path
    fd = copy
  }

  func forget() {
    if fd >= 0 { close(fd) }
    fd = -1
    components = nil
  }
}
