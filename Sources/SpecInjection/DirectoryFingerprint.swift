#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Support

/// What a directory holds, as cheaply as it can be compared: each entry's
/// name, inode, size and modification time. Two equal fingerprints mean
/// nothing was added, removed, renamed or rewritten in between, so a cache
/// read from the directory still holds (a check at each use instead of a
/// watching thread).
struct DirectoryFingerprint: Equatable, Sendable {
  struct Entry: Equatable, Sendable {
    var name: String
    var inode: UInt64
    var size: Int64
    var modified: Int64
  }

  /// nil when the directory cannot be listed (missing, or not a directory).
  var entries: [Entry]?

  init(_ directory: String) {
    guard let names = try? Files.list(directory) else {
      entries = nil
      return
    }
    entries = names.sorted().map { name in
      var info = stat()
      guard stat(directory + "/" + name, &info) == 0 else { return Entry(name: name, inode: 0, size: -1, modified: 0) }
      return Entry(
        name: name, inode: UInt64(info.st_ino), size: Int64(info.st_size),
        modified: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec))
    }
  }

  static func of(_ directories: [String]) -> [DirectoryFingerprint] { directories.map(DirectoryFingerprint.init) }
}
