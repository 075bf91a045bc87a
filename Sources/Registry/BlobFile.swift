#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Support

/// The file a blob streams into: a new file of mode 0600, removed again
/// unless the download completes and verifies.
final class BlobFile {
  let path: String
  private var fd: Int32

  /// Refuses a path that already exists, link or file: downloads may be
  /// staged in a shared directory (`big_files_temporary_dir`, e.g. /var/tmp),
  /// where a name planted beforehand must never be written through.
  init(creating path: String) throws(RegistryError) {
    self.path = path
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw Self.failure("open", path) }
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
