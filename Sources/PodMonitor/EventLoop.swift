#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A poll(2) loop on one thread: the monitor's whole concurrency. Handlers
/// run one at a time and may add or remove sources (their own included);
/// a source removed during an iteration is not called in it, even if its
/// descriptor number was reused meanwhile.
final class EventLoop {
  typealias Handler = (_ revents: Int16) -> Void

  private struct Source {
    var events: Int16
    var token: Int
    var handler: Handler
  }

  private var sources: [Int32: Source] = [:]
  private var nextToken = 0

  func watch(_ fd: Int32, events: Int16 = Int16(POLLIN), _ handler: @escaping Handler) {
    nextToken += 1
    sources[fd] = Source(events: events, token: nextToken, handler: handler)
  }

  /// Changes what `fd` is watched for, keeping its handler.
  func setEvents(_ fd: Int32, _ events: Int16) {
    sources[fd]?.events = events
  }

  func unwatch(_ fd: Int32) {
    sources[fd] = nil
  }

  /// Waits up to `timeout` milliseconds (-1: until something happens) and
  /// runs the handlers of the descriptors that are ready.
  func runOnce(timeout: Int32) {
    var fds = sources.map { pollfd(fd: $0.key, events: $0.value.events, revents: 0) }
    let tokens = fds.map { sources[$0.fd]!.token }
    let ready = poll(&fds, nfds_t(fds.count), timeout)
    guard ready > 0 else { return }
    for (index, entry) in fds.enumerated() where entry.revents != 0 {
      guard let source = sources[entry.fd], source.token == tokens[index] else { continue }
      source.handler(entry.revents)
    }
  }
}
