#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Client side of Unix sockets.
public enum UnixSocket {
  /// Connects to the socket at `path` and returns the descriptor
  /// (close-on-exec). `type` is SOCK_STREAM, or e.g. SOCK_SEQPACKET for
  /// conmon's attach socket.
  public static func connect(_ path: String, type: Int32 = Int32(SOCK_STREAM.rawValue)) throws(SystemError) -> Int32 {
    guard var (address, length) = address(path) else {
      throw SystemError(operation: "connect", path: path, code: ENAMETOOLONG)
    }
    let fd = socket(AF_UNIX, type | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw SystemError("socket", path: path) }
    let result = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, length) }
    }
    guard result == 0 else {
      let error = SystemError("connect", path: path)
      close(fd)
      throw error
    }
    return fd
  }

  /// The address of the socket at `path`, or of the abstract socket named
  /// after a leading `@`, with its length; nil when the name is too long.
  public static func address(_ path: String) -> (sockaddr_un, socklen_t)? {
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    var name = Array(path.utf8)
    let abstract = name.first == UInt8(ascii: "@")
    if abstract { name[0] = 0 }  // an abstract socket's name starts with NUL
    else { name.append(0) }  // a path is NUL-terminated
    guard name.count <= MemoryLayout.size(ofValue: address.sun_path) else { return nil }
    withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: name) }
    return (address, socklen_t(MemoryLayout<sa_family_t>.size + name.count))
  }

  /// True when a process accepts connections on the socket at `path`.
  public static func isAnswering(_ path: String) -> Bool {
    guard let fd = try? connect(path) else { return false }
    close(fd)
    return true
  }
}

/// A failed system call: which, on what, and errno's text.
public struct SystemError: Error, Sendable, Equatable, CustomStringConvertible {
  public let operation: String
  public let path: String?
  public let code: Int32

  public init(operation: String, path: String?, code: Int32) {
    self.operation = operation
    self.path = path
    self.code = code
  }

  /// Captures the current errno.
  public init(_ operation: String, path: String? = nil) {
    self.init(operation: operation, path: path, code: errno)
  }

  public var reason: String { String(cString: strerror(code)) }

  public var description: String {
    if let path { return "\(operation) \(path): \(reason)" }
    return "\(operation): \(reason)"
  }
}
