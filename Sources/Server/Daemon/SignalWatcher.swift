#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Dispatch
import Synchronization

/// Turns process signals into an async stream. The default dispositions are
/// replaced (SIG_IGN) so the process is not killed before the stream sees
/// the signal.
final class SignalWatcher: Sendable {
  let stream: AsyncStream<Int32>
  private let sources: Mutex<[any DispatchSourceSignal]>

  init(signals: [Int32]) {
    let (stream, continuation) = AsyncStream<Int32>.makeStream()
    self.stream = stream
    let queue = DispatchQueue(label: "crio.signals")
    sources = Mutex(signals.map { number in
      signal(number, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
      source.setEventHandler { continuation.yield(number) }
      source.resume()
      return source
    })
  }

  func stop() {
    sources.withLock { sources in
      for source in sources { source.cancel() }
    }
  }
}
