import Support

#if canImport(Glibc)
import Glibc
#endif

/// A container's root file system: the image's unpacked layers as overlay
/// lower directories, with a writable upper directory of its own.
enum ContainerRootfs {
  /// Mounts the overlay at `merged`; `lowerDirectories` bottom layer first.
  static func mount(lowerDirectories: [String], layerDirectory: String, merged: String) throws(CRIError) {
    let upper = layerDirectory + "/upper"
    let work = layerDirectory + "/work"
    do {
      for directory in [upper, work, merged] { try Files.makeDirectories(directory, mode: 0o755) }
    } catch {
      throw .internal("preparing the container's root file system: \(error)")
    }
    guard !lowerDirectories.isEmpty else {
      throw .failedPrecondition("the image has no layers to make a root file system from")
    }
    // overlayfs lists the topmost lower directory first.
    let options = "lowerdir=\(lowerDirectories.reversed().joined(separator: ":")),upperdir=\(upper),workdir=\(work)"
    guard options.utf8.count < 4000 else {
      throw .failedPrecondition("the image has too many layers (\(lowerDirectories.count)) for one overlay mount")
    }
    guard Glibc.mount("overlay", merged, "overlay", 0, options) == 0 else {
      throw .internal("cannot mount the container's overlay root on \(merged): \(SystemError("mount").reason)")
    }
  }

  static func unmount(_ merged: String) {
    umount2(merged, Int32(MNT_DETACH))
  }
}

/// Signal names as images give them (`SIGQUIT`, `QUIT`, `3`).
enum SignalNames {
  static let numbers: [String: Int32] = [
    "HUP": SIGHUP, "INT": SIGINT, "QUIT": SIGQUIT, "KILL": SIGKILL, "USR1": SIGUSR1, "USR2": SIGUSR2,
    "TERM": SIGTERM, "CONT": SIGCONT, "STOP": SIGSTOP, "WINCH": SIGWINCH, "PWR": SIGPWR,
  ]

  static func number(_ text: String?) -> Int32 {
    guard let text, !text.isEmpty else { return SIGTERM }
    if let number = Int32(text), (1...64).contains(number) { return number }
    let name = text.uppercased().hasPrefix("SIG") ? String(text.uppercased().dropFirst(3)) : text.uppercased()
    return numbers[name] ?? SIGTERM
  }
}
