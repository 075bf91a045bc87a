#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// An open file descriptor closed when the value goes away, so early exits
/// (typed throws everywhere) never leak descriptors.
struct OwnedDescriptor: ~Copyable {
  let fd: Int32

  init(_ fd: Int32) { self.fd = fd }

  deinit { close(fd) }
}

/// Calls `body` with `bytes` as a NUL-terminated C string. Names from archives
/// are kept as bytes (not String) so names that are not UTF-8 survive intact.
func withCString<R, E: Error>(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>) throws(E) -> R) throws(E) -> R {
  var terminated = bytes
  terminated.append(0)
  let result: Result<R, E> = terminated.withUnsafeBufferPointer { buffer in
    buffer.withMemoryRebound(to: CChar.self) { chars in
      do throws(E) {
        return .success(try body(chars.baseAddress!))
      } catch {
        return .failure(error)
      }
    }
  }
  return try result.get()
}

/// Retries a system call interrupted by a signal.
@inline(__always)
func retryingOnEINTR<T: BinaryInteger>(_ call: () -> T) -> T {
  while true {
    let result = call()
    if result >= 0 || errno != EINTR { return result }
  }
}

/// lstat relative to a directory, or nil when nothing is there (or it cannot be seen).
func statAt(_ dirfd: Int32, _ name: UnsafePointer<CChar>) -> stat? {
  var info = stat()
  guard fstatat(dirfd, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { return nil }
  return info
}

func isDirectory(_ info: stat) -> Bool { info.st_mode & S_IFMT == S_IFDIR }
func isSymlink(_ info: stat) -> Bool { info.st_mode & S_IFMT == S_IFLNK }
