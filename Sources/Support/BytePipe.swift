import Dispatch
import Synchronization

/// Bytes that can be copied out, whatever holds them (a network buffer, an array).
public protocol ByteChunk: Sendable {
  var byteCount: Int { get }
  /// Copies up to `destination.count` bytes starting at `offset`; returns how many.
  func copyBytes(from offset: Int, into destination: UnsafeMutableRawBufferPointer) -> Int
}

extension Array: ByteChunk where Element == UInt8 {
  public var byteCount: Int { count }

  public func copyBytes(from offset: Int, into destination: UnsafeMutableRawBufferPointer) -> Int {
    withUnsafeBytes { $0.copyBytes(from: offset, into: destination) }
  }
}

extension UnsafeRawBufferPointer {
  /// Copies up to `destination.count` bytes starting at `offset`; returns how many.
  public func copyBytes(from offset: Int, into destination: UnsafeMutableRawBufferPointer) -> Int {
    let length = Swift.min(destination.count, count - offset)
    guard length > 0 else { return 0 }
    destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: self[offset..<offset + length]))
    return length
  }
}

/// Carries a byte stream from an async producer (a download) to a consumer
/// on a thread of its own that may block (a layer being unpacked), so the
/// bytes never touch the disk in between. At most `capacity` chunks wait in
/// the pipe: a producer ahead of its consumer is suspended, not buffered,
/// so memory stays bounded whatever the stream's size.
///
/// The producer ends the stream with `finish()` once the bytes are known
/// good (a download whose digest matched) or `fail(_:)`; the consumer sees
/// the end only then, so it can hold back its last step (renaming a layer
/// into place) until the producer's verdict. A consumer that gives up calls
/// `abandon()`, and the producer's next `send` throws.
public final class BytePipe: Sendable {
  /// The producer was told to stop: the consumer gave up.
  public struct Abandoned: Error {}

  public enum ReadResult: Equatable, Sendable {
    case bytes(Int)
    case end
    case failed(String)
  }

  private struct State {
    var chunks: [any ByteChunk] = []
    /// Bytes of `chunks[0]` already read.
    var offset = 0
    var verdict = Verdict.open
    var abandoned = false
    /// The consumer gave up before the producer's verdict: its failure is
    /// the cause, not the producer's.
    var abandonedFirst = false
    /// A producer waiting for room, with the chunk it could not put in.
    var waiting: (chunk: any ByteChunk, resume: CheckedContinuation<Void, any Error>)?
  }

  private enum Verdict {
    case open, finished
    case failed(String)
  }

  private enum SendOutcome {
    case queued, waiting
    case refused(any Error)
  }

  private let state = Mutex(State())
  /// Signalled once per chunk queued and at the end: wakes a waiting
  /// consumer, which checks the state again (stale signals cost a loop).
  private let changed = DispatchSemaphore(value: 0)
  private let capacity: Int

  public init(capacity: Int = 16) {
    self.capacity = max(1, capacity)
  }

  /// Queues `chunk`, suspending while the pipe is full. Throws `Abandoned`
  /// once the consumer has given up, and CancellationError when the calling
  /// task is cancelled while it waits.
  public func send(_ chunk: some ByteChunk) async throws {
    guard chunk.byteCount > 0 else { return }
    let queued = try state.withLock { state throws(Abandoned) -> Bool in
      if state.abandoned { throw Abandoned() }
      guard state.chunks.count < capacity else { return false }
      state.chunks.append(chunk)
      return true
    }
    if queued {
      changed.signal()
      return
    }
    try await withTaskCancellationHandler {
      try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
        let outcome = state.withLock { state -> SendOutcome in
          if state.abandoned { return .refused(Abandoned()) }
          if Task.isCancelled { return .refused(CancellationError()) }
          if state.chunks.count < capacity {
            state.chunks.append(chunk)
            return .queued
          }
          // From here the consumer, abandon() or cancellation resumes it.
          state.waiting = (chunk, continuation)
          return .waiting
        }
        switch outcome {
        case .queued:
          changed.signal()
          continuation.resume()
        case .refused(let error):
          continuation.resume(throwing: error)
        case .waiting:
          break
        }
      }
    } onCancel: {
      let waiting = state.withLock { state in
        defer { state.waiting = nil }
        return state.waiting
      }
      waiting?.resume.resume(throwing: CancellationError())
    }
  }

  /// Ends the stream as good: the consumer reads what is queued, then `.end`.
  public func finish() {
    close(with: .finished)
  }

  /// Ends the stream as failed: the consumer's next read gets `reason`.
  public func fail(_ reason: String) {
    close(with: .failed(reason))
  }

  private func close(with verdict: Verdict) {
    state.withLock { state in
      if case .open = state.verdict { state.verdict = verdict }
    }
    changed.signal()
  }

  /// The consumer gives up: queued chunks are dropped and the producer's
  /// next (or current) `send` throws `Abandoned`.
  public func abandon() {
    let waiting = state.withLock { state in
      if case .open = state.verdict, !state.abandoned { state.abandonedFirst = true }
      state.abandoned = true
      state.chunks.removeAll()
      defer { state.waiting = nil }
      return state.waiting
    }
    waiting?.resume.resume(throwing: Abandoned())
  }

  /// Whether the consumer gave up while the producer still had bytes to
  /// send (so a failure on both sides started with the consumer's).
  public var abandonedFirst: Bool {
    state.withLock { $0.abandonedFirst }
  }

  /// Copies the next bytes into `destination`, blocking until there are
  /// some, the stream ends, or it fails. Failures win over queued bytes.
  public func read(into destination: UnsafeMutableRawBufferPointer) -> ReadResult {
    while true {
      let (result, resumed) = state.withLock { state -> (ReadResult?, CheckedContinuation<Void, any Error>?) in
        if case .failed(let reason) = state.verdict { return (.failed(reason), nil) }
        guard let first = state.chunks.first else {
          if case .open = state.verdict { return (nil, nil) }
          return (.end, nil)
        }
        let copied = first.copyBytes(from: state.offset, into: destination)
        state.offset += copied
        var resumed: CheckedContinuation<Void, any Error>?
        if state.offset >= first.byteCount {
          state.chunks.removeFirst()
          state.offset = 0
          if let waiting = state.waiting {
            state.chunks.append(waiting.chunk)
            state.waiting = nil
            resumed = waiting.resume
          }
        }
        return (.bytes(copied), resumed)
      }
      resumed?.resume()
      if let result { return result }
      changed.wait()
    }
  }
}
