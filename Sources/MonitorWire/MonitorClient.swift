#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Why a call to a pod monitor got no answer.
public enum MonitorCallError: Error, Sendable, Equatable, CustomStringConvertible {
  /// No monitor listens there (it is not running, or it died).
  case unreachable(path: String, errno: Int32)
  /// The connection failed or closed mid-message.
  case io(operation: String, errno: Int32)
  /// No answer in time.
  case timedOut(seconds: Int64)
  /// The answer could not be read.
  case malformed(WireError)

  public var description: String {
    switch self {
    case .unreachable(let path, let code): "no pod monitor answers at \(path): \(String(cString: strerror(code)))"
    case .io(let operation, let code): "talking to the pod monitor (\(operation)): \(String(cString: strerror(code)))"
    case .timedOut(let seconds): "the pod monitor did not answer within \(seconds) s"
    case .malformed(let error): "the pod monitor's answer cannot be read: \(error)"
    }
  }
}

/// One request, one answer, on a blocking socket: the daemon calls it from
/// its thread pool, tests call it directly.
public enum MonitorClient {
  /// Sends `request` to the monitor whose socket is in `directory` and
  /// waits up to `timeoutSeconds` (socket-level, for each read and write)
  /// for its answer.
  public static func call(directory: String, _ request: MonitorRequest, timeoutSeconds: Int64) throws(MonitorCallError) -> MonitorResponse {
    let fd = try connect(directory: directory)
    defer { close(fd) }
    var timeout = timeval(tv_sec: Int(timeoutSeconds), tv_usec: 0)
    _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    return try exchange(fd, Frame.encode(request), timeoutSeconds: timeoutSeconds)
  }

  /// Sends raw bytes (a test's malformed request) and reads one answer.
  public static func exchange(_ fd: Int32, _ bytes: [UInt8], timeoutSeconds: Int64) throws(MonitorCallError) -> MonitorResponse {
    do {
      try SocketIO.writeAll(fd, bytes)
    } catch {
      throw error.code == EAGAIN ? .timedOut(seconds: timeoutSeconds) : .io(operation: "send", errno: error.code)
    }
    let payload: [UInt8]
    do {
      let header = try SocketIO.readExactly(fd, 4)
      let length: Int
      do { length = try Frame.length(header: header, limit: MonitorProtocol.maximumResponse) } catch { throw MonitorCallError.malformed(error) }
      payload = try SocketIO.readExactly(fd, length)
    } catch let error as SocketIO.Failure {
      throw error.code == EAGAIN ? .timedOut(seconds: timeoutSeconds) : .io(operation: "receive", errno: error.code)
    } catch let error as MonitorCallError {
      throw error
    } catch {
      throw .io(operation: "receive", errno: EIO)
    }
    do { return try Frame.decodeResponse(payload) } catch { throw .malformed(error) }
  }

  /// A connected stream socket (close-on-exec) to the monitor of `directory`.
  public static func connect(directory: String) throws(MonitorCallError) -> Int32 {
    let path = directory + "/" + MonitorProtocol.socketName
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw .io(operation: "socket", errno: errno) }
    let result = SocketPath.withAddress(directory: directory, name: MonitorProtocol.socketName) { address, length in
      Glibc.connect(fd, address, length)
    }
    guard result == 0 else {
      let code = result == -2 ? ENAMETOOLONG : errno
      close(fd)
      throw .unreachable(path: path, errno: code)
    }
    return fd
  }
}

/// Unix socket addresses hold 108 bytes; a pod's run directory under a
/// long run root does not fit with the socket's name. The socket is
/// reached through `/proc/self/fd/<directory>/<name>` instead, which
/// always does.
public enum SocketPath {
  /// Calls `body` with the address of `name` in `directory`; -2 when the
  /// directory cannot be opened or the name does not fit.
  public static func withAddress(directory: String, name: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32 {
    let dirfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard dirfd >= 0 else { return -2 }
    defer { close(dirfd) }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let path = Array("/proc/self/fd/\(dirfd)/\(name)".utf8) + [0]
    guard path.count <= MemoryLayout.size(ofValue: address.sun_path) else { return -2 }
    withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: path) }
    let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count)
    return withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
    }
  }
}

/// Whole reads and writes on a blocking descriptor.
public enum SocketIO {
  public struct Failure: Error, Sendable { public let code: Int32 }

  public static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws(Failure) {
    var offset = 0
    while offset < bytes.count {
      let written = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
      if written < 0 {
        if errno == EINTR { continue }
        throw Failure(code: errno)
      }
      offset += written
    }
  }

  /// Exactly `count` bytes; end of file first is EPIPE.
  public static func readExactly(_ fd: Int32, _ count: Int) throws(Failure) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: count)
    var offset = 0
    while offset < count {
      let got = bytes[offset...].withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      if got < 0 {
        if errno == EINTR { continue }
        throw Failure(code: errno)
      }
      if got == 0 { throw Failure(code: EPIPE) }
      offset += got
    }
    return bytes
  }
}
