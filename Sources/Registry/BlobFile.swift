#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Support

/// The file a blob streams into: created or truncated with mode 0600, and
/// removed again unless the download completes and verifies.
final class BlobFile {
  let path: String
  private var fd: Int32

  init(creating path: String) throws(RegistryError) {
    self.path = path
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw Self.failure("open", path) }
    // O_CREAT's mode does not apply to a file that already existed.
    fchmod(fd, 0o600)
  }

  func write(_ bytes: UnsafeRawBufferPointer) throws(RegistryError) {
    var offset = 0
    while offset < bytes.count {
      let written = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
      if written < 0 && errno == EINTR { continue }
      guard written > 0 else { throw Self.failure("write", path) }
      offset += written
    }
  }

  /// Closes the file, keeping it.
  func finish() throws(RegistryError) {
    let descriptor = fd
    fd = -1
    guard descriptor >= 0, close(descriptor) == 0 else { throw Self.failure("close", path) }
  }

  /// errno as a RegistryError; captured before anything else can change it.
  private static func failure(_ operation: String, _ path: String) -> RegistryError {
    .localFile(path: path, detail: "\(operation): \(SystemError(operation).reason)")
  }

  /// Closes and deletes the file.
  func discard() {
    if fd >= 0 {
      close(fd)
      fd = -1
    }
    unlink(path)
  }

  deinit {
    if fd >= 0 { close(fd) }
  }
}
