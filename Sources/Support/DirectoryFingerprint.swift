#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What a directory holds, as cheaply as it can be compared: each entry's
/// name, inode, size and modification time. Two equal fingerprints mean
/// nothing was added, removed, renamed or rewritten in between, so a cache
/// read from the directory still holds (a check at each use instead of a
/// watching thread).
public struct DirectoryFingerprint: Equatable, Sendable {
  /// One file's identity and change time; a file that cannot be stat'ed has size -1.
  public struct Entry: Equatable, Sendable {
    public var name: String
    public var inode: UInt64
    public var size: Int64
    public var modified: Int64

    /// The entry of `path`, named `name`.
    public init(path: String, name: String) {
      self.name = name
      var info = stat()
      guard stat(path, &info) == 0 else {
        (inode, size, modified) = (0, -1, 0)
        return
      }
      inode = UInt64(info.st_ino)
      size = Int64(info.st_size)
      modified = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
    }
  }

  /// nil when the directory cannot be listed (missing, or not a directory).
  public var entries: [Entry]?

  public init(_ directory: String) {
    entries = (try? Files.list(directory))?.sorted().map { Entry(path: directory + "/" + $0, name: $0) }
  }

  public static func of(_ directories: [String]) -> [DirectoryFingerprint] { directories.map(DirectoryFingerprint.init) }
}
