import Dispatch
import Streaming

#if canImport(Glibc)
import Glibc
#endif

/// Moving bytes between file descriptors (pipes, terminals, sockets) and the
/// streaming server's byte streams without blocking a cooperative thread:
/// reads go through DispatchIO, writes run on a dispatch queue.
enum DescriptorIO {
  /// Chunks read from `fd` until end of file or an error. Takes ownership
  /// of `fd`: it is closed when reading ends or the consumer stops.
  static func chunks(of fd: Int32) -> AsyncStream<[UInt8]> {
    AsyncStream { continuation in
      let queue = DispatchQueue(label: "crio.stream.read")
      let channel = DispatchIO(type: .stream, fileDescriptor: fd, queue: queue) { _ in close(fd) }
      channel.setLimit(lowWater: 1)
      channel.read(offset: 0, length: Int.max, queue: queue) { done, data, _ in
        if let data, !data.isEmpty { continuation.yield(Array(data)) }
        if done {
          continuation.finish()
          channel.close()
        }
      }
      continuation.onTermination = { _ in channel.close(flags: .stop) }
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
