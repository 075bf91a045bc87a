#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Support
import Synchronization

/// The store's own directories: created owner-only (unpacked layers hold
/// setuid files and secrets of images), unique names for staging.
enum StorageDirectories {
  static func make(_ paths: String...) throws(SystemError) {
    for path in paths {
      try Files.makeDirectories(path, mode: 0o700)
    }
  }

  private static let counter = Atomic<UInt64>(0)

  /// A name in `directory` no other call of this process returns, and
  /// random enough that another process sharing the root does not collide.
  static func uniquePath(in directory: String, prefix: String) -> String {
    let sequence = counter.wrappingAdd(1, ordering: .relaxed).newValue
    let random = UInt64.random(in: 0...UInt64.max)
    return "\(directory)/\(prefix)\(getpid())-\(sequence)-\(String(random, radix: 36))"
  }

  /// fsync on a directory, so a rename or link in it survives a crash.
  static func sync(directory: String) {
    let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard fd >= 0 else { return }
    fsync(fd)
    close(fd)
  }

  /// Removes everything inside `directory`, keeping it.
  static func empty(_ directory: String) {
    for name in (try? Files.list(directory)) ?? [] {
      try? DirectoryTree.remove(path: directory + "/" + name)
    }
  }
}
