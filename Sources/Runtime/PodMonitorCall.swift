import MonitorWire
import Support

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One request to a pod monitor and its answer, waiting for the answer
/// with the daemon's epoll (`Readiness`) rather than on a thread: an
/// ExecSync may take minutes.
enum PodMonitorCall {
  static func call(directory: String, _ request: MonitorRequest, timeout: Duration, id: String) async throws(RuntimeError) -> MonitorResponse {
    let fd: Int32
    do { fd = try MonitorClient.connect(directory: directory) } catch {
      throw .monitorUnreachable(id: id, reason: error.description)
    }
    defer { close(fd) }
    // Requests are small (bounded far below a socket's buffer): sent whole at once.
    var sendTimeout = timeval(tv_sec: 10, tv_usec: 0)
    _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &sendTimeout, socklen_t(MemoryLayout<timeval>.size))
    do { try SocketIO.writeAll(fd, Frame.encode(request)) } catch {
      throw .monitorUnreachable(id: id, reason: "sending the request: \(SystemError(operation: "send", path: nil, code: error.code))")
    }
    return try await receive(fd, timeout: timeout, id: id)
  }

  /// The next answer on `fd`, a connection to a monitor.
  static func receive(_ fd: Int32, timeout: Duration, id: String) async throws(RuntimeError) -> MonitorResponse {
    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    let deadline = ContinuousClock.now + timeout
    var received: [UInt8] = []
    var expected: Int?
    var chunk = [UInt8](repeating: 0, count: 64 << 10)
    while true {
      // Never past this answer: another may follow on the connection.
      let wanted = expected.map { $0 - received.count } ?? 4 - received.count
      let got = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, min(wanted, $0.count)) }
      if got > 0 {
        received += chunk[..<got]
        if expected == nil, received.count >= 4 {
          do {
            expected = 4 + (try Frame.length(header: Array(received[..<4]), limit: MonitorProtocol.maximumResponse))
          } catch {
            throw .monitorFailed(id: id, message: "unreadable answer: \(error)")
          }
        }
        if let expected, received.count >= expected {
          do { return try Frame.decodeResponse(Array(received[4..<expected])) } catch {
            throw .monitorFailed(id: id, message: "unreadable answer: \(error)")
          }
        }
        continue
      }
      // The request was delivered: a monitor gone now may have acted on it.
      if got == 0 { throw .monitorDied(id: id, reason: "it closed the connection without an answer") }
      if errno == EINTR { continue }
      guard errno == EAGAIN || errno == EWOULDBLOCK else {
        throw .monitorDied(id: id, reason: "\(SystemError("read"))")
      }
      let left = deadline - ContinuousClock.now
      guard left > .zero, await Readiness.shared.waitReadable(fd, timeout: left) else {
        throw .timedOut(id: id, operation: "waiting for the pod monitor", seconds: timeout.seconds)
      }
    }
  }

  /// The answer `ok`, or the error it carries.
  static func expectOK(_ response: MonitorResponse, id: String) throws(RuntimeError) {
    switch response {
    case .ok: return
    case .error(let failure, let message): throw failure == .notFound ? .notFound(id: id) : .monitorFailed(id: id, message: message)
    default: throw .monitorFailed(id: id, message: "unexpected answer \(response)")
    }
  }
}
