import Config
import Support

#if canImport(Glibc)
import Glibc
#endif

/// A container's root file system: the image's unpacked layers as overlay
/// lower directories, with a writable upper directory of its own.
enum ContainerRootfs {
  /// Mounts the overlay at `merged`; `lowerDirectories` bottom layer first.
  /// In a pod with its own user namespace the layers are idmapped through
  /// it (image root is the container's root, not the host's), and the
  /// writable layer's root belongs to the container's root.
  static func mount(
    lowerDirectories: [String], layerDirectory: String, merged: String, userNamespace: PodUserNamespace? = nil,
    options storage: StorageOptions = StorageOptions()
  ) throws(CRIError) {
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
    var lowers = lowerDirectories
    // The overlay keeps its own references to the layers: the staged
    // idmapped mounts go once it is mounted (or failed to be).
    var stagingDirectory: String?
    defer { if let stagingDirectory { IDMappedMounts.detachAll(in: stagingDirectory) } }
    if let userNamespace {
      guard chown(upper, userNamespace.hostRoot.uid, userNamespace.hostRoot.gid) == 0 else {
        throw .internal("cannot give the container's writable layer to its root: \(SystemError("chown").reason)")
      }
      let fd = try userNamespace.open()
      defer { close(fd) }
      var mounts = IDMappedMounts(directory: merged + "-layers")
      stagingDirectory = mounts.directory
      lowers = try lowers.map { (lower) throws(CRIError) in
        try mounts.stage(lower, userNamespace: fd, recursive: false, what: "image layer")
      }
    }
    // overlayfs lists the topmost lower directory first.
    // `storage_option`'s overlay.mountopt: overlayfs options in the data, flags as flags.
    let options = (["lowerdir=\(lowers.reversed().joined(separator: ":"))", "upperdir=\(upper)", "workdir=\(work)"]
      + storage.overlayOptions).joined(separator: ",")
    var flags: UInt = 0
    for flag in storage.mountFlags {
      switch flag {
      case "nodev": flags |= UInt(MS_NODEV)
      case "nosuid": flags |= UInt(MS_NOSUID)
      case "noexec": flags |= UInt(MS_NOEXEC)
      default: break
      }
    }
    guard options.utf8.count < 4000 else {
      throw .failedPrecondition("the image has too many layers (\(lowerDirectories.count)) for one overlay mount")
    }
    guard Glibc.mount("overlay", merged, "overlay", flags, options) == 0 else {
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
