#if canImport(Glibc)
import Glibc
#endif
import Config
import Support

/// CRI-O's `clean_shutdown_file`: written on a clean stop after the storage
/// was synced, removed at start. Missing at start means the last daemon did
/// not stop cleanly (killed, or the node lost power), so its storage may
/// hold damage that a sync would have prevented. `<file>.supported`, written
/// at start, tells a daemon that wrote the file before apart from one that
/// never did (an upgrade from a version without it): only the former's
/// missing file means an unclean stop.
struct CleanShutdown {
  let file: String
  var supported: String { file + ".supported" }

  init(config: CrioConfig) { file = config.cleanShutdownFile }

  /// Whether the last daemon stopped without writing the file (and would have written it).
  var lastStopWasUnclean: Bool {
    !file.isEmpty && Files.kind(of: supported) != .missing && Files.kind(of: file) == .missing
  }

  /// At start: the file goes (a crash from now on leaves it missing) and
  /// `.supported` is written. CRI-O keeps the file beside its storage; its
  /// directory is made when missing.
  func started() throws(DaemonError) {
    guard !file.isEmpty else { return }
    let parent = String(file[..<(file.lastIndex(of: "/") ?? file.startIndex)])
    try makeDirectories(parent.isEmpty ? "/" : parent, mode: 0o755)
    guard unlink(file) == 0 || errno == ENOENT else {
      throw .stateFile(path: file, reason: "cannot remove the clean shutdown file: \(SystemError("unlink").reason)")
    }
    do {
      try Files.write(supported, "")
    } catch {
      throw .stateFile(path: supported, reason: error.reason)
    }
    DurableFiles.syncParent(of: file)
  }

  /// After a clean stop: storage synced first, then the file, then its
  /// directory, so the file never reaches the disk before what it vouches for.
  func stoppedCleanly(root: String) throws(SystemError) {
    guard !file.isEmpty else { return }
    DurableFiles.syncFileSystem(of: root)
    try Files.write(file, "")
    DurableFiles.syncParent(of: file)
  }
}
