#if canImport(Glibc)
import Glibc
#endif

/// sd_notify(3) without libsystemd: state lines sent as one datagram to
/// `$NOTIFY_SOCKET` (a path, or an abstract name after `@`). Nothing is
/// sent when the variable is unset, i.e. when systemd did not start the
/// daemon with `Type=notify`.
public enum SystemdNotify {
  /// The socket, taken out of the environment at first use: children (runc
  /// above all, which would pass it into the container) must not see it.
  private static let socketFromEnvironment: String? = {
    let path = getenv("NOTIFY_SOCKET").map { String(cString: $0) }
    unsetenv("NOTIFY_SOCKET")
    return path
  }()

  /// Takes `$NOTIFY_SOCKET` for the daemon; call before any child starts.
  public static func claimSocket() { _ = socketFromEnvironment }

  /// `READY=1`: start-up is over and the socket is served.
  public static func ready() { send("READY=1") }

  /// `RELOADING=1`, with the monotonic time systemd 253 wants beside it.
  public static func reloading() {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    send("RELOADING=1\nMONOTONIC_USEC=\(Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000)")
  }

  public static func stopping() { send("STOPPING=1") }

  /// Sends `state`; false when there is no socket or it cannot be reached.
  @discardableResult
  public static func send(_ state: String, socketPath: String? = nil) -> Bool {
    guard let path = socketPath ?? socketFromEnvironment, !path.isEmpty else { return false }
    guard path.hasPrefix("/") || path.hasPrefix("@"), var (address, length) = UnixSocket.address(path) else { return false }
    let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    let bytes = Array(state.utf8)
    let sent = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
        bytes.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), address, length) }
      }
    }
    return sent == bytes.count
  }
}
