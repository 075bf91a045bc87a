import Support

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The pod init (`pause.c`, compiled and embedded at build time) and the
/// root file system it runs on: a directory holding that one executable and
/// the empty mount points runc needs. runc bind-mounts it read-only in the
/// init's own mount namespace, so from inside the pod `/proc/1/root` shows
/// this directory and nothing else, and `/proc/1/exe` cannot be written.
public enum PodInitBinary {
  /// The executable's path inside its root.
  public static let command = "/pause"

  /// Creates or refreshes the root at `directory`. Run at every start-up:
  /// a file that differs (an older build, tampering) is replaced atomically,
  /// so a pod init that is running keeps the file it was started from.
  public static func installRoot(at directory: String) throws(SystemError) {
    try Files.makeDirectories(directory, mode: 0o755)
    // A pod with its own user namespace reaches the root as its mapped user.
    guard chmod(directory, 0o755) == 0 else { throw SystemError("chmod", path: directory) }
    for mountPoint in ["proc", "dev"] {
      try Files.makeDirectories(directory + "/" + mountPoint, mode: 0o755)
    }
    let path = directory + command
    if (try? Files.readBytes(path)) == bytes, isRootOwnedExecutable(path) { return }
    let temporary = path + ".new"
    unlink(temporary)
    let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o555)
    guard fd >= 0 else { throw SystemError("open", path: temporary) }
    do throws(SystemError) {
      defer { close(fd) }
      try Files.writeAll(fd, bytes, path: temporary)
      guard fchmod(fd, 0o555) == 0 else { throw SystemError("fchmod", path: temporary) }
    } catch {
      unlink(temporary)
      throw error
    }
    guard rename(temporary, path) == 0 else {
      let error = SystemError("rename", path: path)
      unlink(temporary)
      throw error
    }
  }

  private static func isRootOwnedExecutable(_ path: String) -> Bool {
    var info = stat()
    return lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFREG && info.st_uid == 0 && info.st_mode & 0o7777 == 0o555
  }
}
