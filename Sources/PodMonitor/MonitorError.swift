#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A failed system call or runc command inside the monitor, with errno's
/// text: it becomes the message of an error answer.
public struct MonitorError: Error, Sendable, CustomStringConvertible {
  public let description: String

  /// `operation` failed with the current errno.
  public init(_ operation: String) {
    description = operation + ": " + String(cString: strerror(errno))
  }

  public init(message: String) {
    description = message
  }
}
