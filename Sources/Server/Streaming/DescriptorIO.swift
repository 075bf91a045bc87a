import Dispatch
import Streaming
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Moving bytes between file descriptors (pipes, terminals, sockets) and the
/// streaming server's byte streams without blocking a cooperative thread:
/// blocking reads and writes run on dispatch worker threads. (Not
/// DispatchIO: its Linux event loop crashed under many concurrent sessions
/// in this daemon, and it makes descriptors non-blocking behind our back.)
enum DescriptorIO {
  private static let readers = DispatchQueue(label: "crio.stream.read", attributes: .concurrent)

  /// Chunks read from `fd` until end of file or an error (a pipe's writer
  /// gone, a terminal's process ended, a socket shut down). With `closing`
  /// it takes ownership of `fd` and closes it when reading ends; otherwise
  /// the caller closes it once the stream has finished.
  static func chunks(of fd: Int32, bufferSize: Int = 64 << 10, closing: Bool = true) -> AsyncStream<[UInt8]> {
    AsyncStream { continuation in
      readers.async {
        var buffer = [UInt8](repeating: 0, count: bufferSize)
        while true {
          let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
          if count < 0 && errno == EINTR { continue }
          guard count > 0 else { break }
          continuation.yield(Array(buffer[..<count]))
        }
        if closing { close(fd) }
        continuation.finish()
      }
    }
  }

  private static let writers = DispatchQueue(label: "crio.stream.write", attributes: .concurrent)

  /// Writes all of `bytes` to `fd`; false when the other end is gone.
  /// The descriptor may be non-blocking (DispatchIO makes a descriptor it
  /// reads non-blocking, and a socket or terminal read through a `dup`
  /// shares that flag), so a full buffer is waited out with poll.
  static func write(_ bytes: [UInt8], to fd: Int32) async -> Bool {
    await withCheckedContinuation { continuation in
      writers.async {
        var offset = 0
        while offset < bytes.count {
          let written = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
          if written < 0 {
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK {
              var ready = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
              _ = poll(&ready, 1, 1000)
              continue
            }
            continuation.resume(returning: false)
            return
          }
          offset += written
        }
        continuation.resume(returning: true)
      }
    }
  }

  /// Copies `fd`'s output to `writer` until end of file (owns `fd`).
  static func copy(from fd: Int32, to writer: ByteWriter) async {
    for await chunk in chunks(of: fd) {
      do { try await writer.write(chunk) } catch { return }
    }
  }

  /// Copies the client's bytes into `fd` until the client closes its side,
  /// then runs `finished` (close the pipe, or half-close the socket).
  static func copy(from stream: ByteStream, to fd: Int32, finished: () -> Void) async {
    for await chunk in stream {
      guard await write(chunk, to: fd) else { break }
    }
    finished()
  }
}

/// A socket that a cancellation handler may shut down while its owner may
/// be closing it: the lock makes sure a shutdown never reaches a descriptor
/// number that was closed and handed to someone else.
final class OwnedSocket: Sendable {
  let fd: Int32
  private let closed = Mutex(false)

  init(_ fd: Int32) { self.fd = fd }

  func shutdown(_ how: Int32 = Int32(SHUT_RDWR)) {
    closed.withLock { isClosed in
      if !isClosed { _ = Glibc.shutdown(fd, how) }
    }
  }

  func close() {
    closed.withLock { isClosed in
      if !isClosed { _ = Glibc.close(fd) }
      isClosed = true
    }
  }
}
