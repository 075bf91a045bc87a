#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A one-shot HTTP/1 GET over a Unix socket.
public enum UnixHTTP {
  public struct Failure: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
  }

  public static func get(_ path: String, socket socketPath: String) throws(Failure) -> (status: Int, body: String) {
    let response: [UInt8]
    do {
      let fd = try UnixSocket.connect(socketPath)
      defer { close(fd) }
      // A daemon that never answers must not hang the caller.
      var timeout = timeval(tv_sec: 10, tv_usec: 0)
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
      try Files.writeAll(fd, Array("GET \(path) HTTP/1.1\r\nHost: crio\r\nConnection: close\r\n\r\n".utf8))
      response = try Files.readAll(fd)
    } catch {
      throw Failure(message: "\(error); is the daemon running on \(socketPath)?")
    }
    guard let split = response.firstRange(of: Array("\r\n\r\n".utf8)) else {
      throw Failure(message: "malformed response from \(socketPath)")
    }
    let statusLine = String(decoding: response[..<split.lowerBound], as: UTF8.self).split(separator: "\r\n").first ?? ""
    let fields = statusLine.split(separator: " ")
    guard fields.count >= 2, let status = Int(fields[1]) else {
      throw Failure(message: "malformed status line from \(socketPath): \(statusLine)")
    }
    return (status, String(decoding: response[split.upperBound...], as: UTF8.self))
  }
}
