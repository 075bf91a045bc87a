import Synchronization

/// When data last arrived, shared between a download and its watchdog.
final class ProgressMeter: Sendable {
  private let state = Mutex((last: ContinuousClock.now, held: false))

  func touch() {
    state.withLock { $0.last = .now }
  }

  /// Time since the last touch; none while `holding` runs.
  var idle: Duration {
    state.withLock { $0.held ? .zero : ContinuousClock.now - $0.last }
  }

  /// Runs `body`, a wait on our own side (a consumer catching up), during
  /// which the source is not stalling; the clock restarts when it ends.
  func holding<T>(_ body: () async throws -> T) async rethrows -> T {
    state.withLock { $0.held = true }
    defer { state.withLock { $0 = (last: .now, held: false) } }
    return try await body()
  }
}

/// Thrown by the watchdog when nothing arrived for the whole timeout.
struct StalledError: Error {}

/// Runs `operation` while a watchdog cancels it if `meter` is not touched
/// for `timeout`; the caller then sees `StalledError`. Without a timeout the
/// operation simply runs.
func withProgressTimeout<T: Sendable>(
  _ timeout: Duration?, _ operation: @escaping @Sendable (ProgressMeter) async throws -> T
) async throws -> T {
  let meter = ProgressMeter()
  guard let timeout else { return try await operation(meter) }
  return try await withThrowingTaskGroup(of: T.self) { group in
    group.addTask { try await operation(meter) }
    group.addTask {
      while true {
        let idle = meter.idle
        if idle >= timeout { throw StalledError() }
        try await Task.sleep(for: timeout - idle)
      }
    }
    defer { group.cancelAll() }
    // The first child to finish decides: the operation's result or error,
    // or the watchdog's StalledError (the operation is then cancelled and
    // the group waits for it to clean up).
    guard let result = try await group.next() else { throw CancellationError() }
    return result
  }
}
