import Support

#if canImport(Glibc)
import Glibc
#endif

/// conmon's control FIFO, `<bundle>/ctl`: one line per request,
/// `<type> <height> <width>`, type 1 resizes the container's terminal and
/// type 2 reopens its log file (after kubelet rotated it).
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

  public static func send(_ request: Request, bundle: String) throws(RuntimeError) {
    let path = bundle + "/ctl"
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

  /// Asks conmon to reopen the log and waits until the file is there again.
  public static func reopenLog(id: String, bundle: String, logPath: String, timeout: Duration = .seconds(5)) async throws(RuntimeError) {
    try send(.reopenLog, bundle: bundle)
    let deadline = ContinuousClock.now + timeout
    while Files.kind(of: logPath) == .missing {
      guard ContinuousClock.now < deadline else {
        throw .timedOut(id: id, operation: "reopening the log file \(logPath)", seconds: 5)
      }
      try? await Task.sleep(for: .milliseconds(5))
    }
  }
}
