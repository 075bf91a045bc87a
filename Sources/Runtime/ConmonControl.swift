import Support

#if canImport(Glibc)
import Glibc
#endif

/// conmon's control FIFO (`ContainerLayout.controlFIFO`): one line per
/// request, `<type> <height> <width>`, type 1 resizes the container's
/// terminal and type 2 reopens its log file (after kubelet rotated it).
public enum ConmonControl {
  public enum Request: Sendable, Equatable {
    case resize(width: UInt16, height: UInt16)
    case reopenLog

    var line: String {
      switch self {
      case .resize(let width, let height): "1 \(height) \(width)\n"
      case .reopenLog: "2 0 0\n"
      }
    }
  }

  public static func send(_ request: Request, fifo path: String) throws(RuntimeError) {
    // Non-blocking: with no conmon reading, open fails (ENXIO) instead of hanging.
    let fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
    guard fd >= 0 else {
      throw .system(SystemError("open"), context: "cannot reach the container's monitor through \(path)")
    }
    defer { close(fd) }
    do {
      try Files.writeAll(fd, Array(request.line.utf8))
    } catch {
      throw .system(error, context: "cannot write to the container's monitor through \(path)")
    }
  }
}

extension ContainerRuntime {
  /// Asks the monitor to reopen the log and waits until the file is there
  /// again (watching its directory, not polling).
  public func reopenLog(_ layout: ContainerLayout, logPath: String, timeout: Duration = .seconds(5)) async throws(RuntimeError) {
    let directory = logPath.lastIndex(of: "/").map { String(logPath[..<$0]) } ?? "."
    let watch = try? DirectoryWatch(directory, events: .created)
    try control(layout, .reopenLog)
    guard Files.kind(of: logPath) == .missing, let watch else { return }
    let name = String(logPath[logPath.index(after: logPath.lastIndex(of: "/") ?? logPath.startIndex)...])
    let appeared = await watch.waitFor(timeout: timeout) { $0 == nil || $0 == name } && Files.kind(of: logPath) != .missing
    if !appeared && Files.kind(of: logPath) == .missing {
      throw .timedOut(id: layout.id, operation: "reopening the log file \(logPath)", seconds: timeout.seconds)
    }
  }
}
