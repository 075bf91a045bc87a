import Support

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Every path of one container, built in this one place: the bundle runc
/// reads and conmon writes beside, the exit file, the OOM marker, the
/// attach socket and the control FIFO. Nothing else concatenates them.
public struct ContainerLayout: Sendable, Hashable {
  public let id: String
  /// `<runroot>/containers/<id>`.
  public let bundle: String
  /// Where conmon writes `<id>` with the exit code (`container_exits_dir`).
  public let exitsDirectory: String
  /// Where conmon links `<id>` to the bundle for its attach socket
  /// (`container_attach_socket_dir`).
  public let attachDirectory: String

  public init(id: String, bundle: String, exitsDirectory: String, attachDirectory: String) {
    self.id = id
    self.bundle = bundle
    self.exitsDirectory = exitsDirectory
    self.attachDirectory = attachDirectory
  }

  public var ociBundle: OCIBundle { OCIBundle(path: bundle) }
  public var config: String { bundle + "/config.json" }
  /// The container's root file system (the overlay mount point).
  public var rootfs: String { bundle + "/rootfs" }
  /// Idmapped clones of mounts, staged until runc has bound them.
  public var idmappedStaging: String { bundle + "/idmapped" }
  /// runc's `--pid-file`: the container's init process.
  public var pidFile: String { bundle + "/pidfile" }
  /// conmon's own PID, once it has daemonized.
  public var monitorPidFile: String { bundle + "/conmon.pid" }
  /// What conmon printed while starting.
  public var monitorOutput: String { bundle + "/conmon.output" }
  /// conmon writes it when it saw the kernel's OOM killer in the container.
  public var oomMarker: String { bundle + "/oom" }
  /// Written by the daemon when the container's pod monitor died: the
  /// daemon killed the container and recorded its exit itself.
  public var monitorLostMarker: String { bundle + "/monitor-lost" }
  /// Links to the pod's run directory when a pod monitor holds the container.
  public var podMonitorLink: String { bundle + "/pod-monitor" }
  /// conmon's control FIFO: terminal resizes and log reopening.
  public var controlFIFO: String { bundle + "/ctl" }
  /// conmon's link from the attach directory to the bundle.
  public var attachLink: String { attachDirectory + "/" + id }
  /// conmon's SEQPACKET attach socket, reached through the short link.
  public var attachSocket: String { attachLink + "/attach" }
  public var exitFile: String { exitsDirectory + "/" + id }

  /// The exit conmon recorded, nil while the container has not ended.
  public func recordedExit() -> ContainerExit? {
    let fd = open(exitFile, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0, let bytes = try? Files.readAll(fd),
      let code = Int32(String(decoding: bytes, as: UTF8.self).trimmed)
    else { return nil }
    let written = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
    return ContainerExit(
      code: code, at: written, oomKilled: Files.kind(of: oomMarker) == .file,
      monitorLost: Files.kind(of: monitorLostMarker) == .file)
  }

  /// Removes what conmon and runc leave outside the bundle (the exit file,
  /// the attach link) and the bundle itself. The caller unmounts the root
  /// first; `Files.removeTree` never descends into a mount anyway.
  public func removeFiles() {
    unlink(exitFile)
    unlink(attachLink)
    Files.removeTree(bundle)
  }
}

/// How a container ended.
public struct ContainerExit: Sendable, Hashable {
  /// The exit code, 128 + n after signal n.
  public var code: Int32
  /// When conmon recorded it (Unix nanoseconds).
  public var at: Int64
  /// conmon saw the kernel's OOM killer strike in the container.
  public var oomKilled: Bool
  /// Its pod monitor died, and the daemon ended it (see `monitorLostMarker`).
  public var monitorLost: Bool

  public init(code: Int32, at: Int64, oomKilled: Bool, monitorLost: Bool = false) {
    self.code = code
    self.at = at
    self.oomKilled = oomKilled
    self.monitorLost = monitorLost
  }
}
