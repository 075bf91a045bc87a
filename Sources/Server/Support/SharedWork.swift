/// Runs one piece of work per key however many callers ask for it at once:
/// a second pull of the same image, or of the same layer, waits for the first
/// instead of downloading again. The work runs in its own task, so a caller
/// whose deadline passes does not cancel it for the others; when the last
/// waiter goes, the work is cancelled, unless it must finish regardless (a
/// pod being created, which kubelet's retry will ask for again).
actor SharedWork<Key: Hashable & Sendable, Value: Sendable> {
  private let cancelWhenAbandoned: Bool

  init(cancelWhenAbandoned: Bool = true) {
    self.cancelWhenAbandoned = cancelWhenAbandoned
  }

  private struct Entry {
    let task: Task<Value, any Error>
    var waiters: Int
  }

  private var running: [Key: Entry] = [:]

  /// How many callers wait for `key`'s work (for tests).
  func waiters(for key: Key) -> Int { running[key]?.waiters ?? 0 }

  func run(_ key: Key, _ work: @escaping @Sendable () async throws -> Value) async throws -> Value {
    let task: Task<Value, any Error>
    if var entry = running[key] {
      entry.waiters += 1
      running[key] = entry
      task = entry.task
    } else {
      task = Task { try await work() }
      running[key] = Entry(task: task, waiters: 1)
    }
    defer { leave(key, task: task) }
    return try await withTaskCancellationHandler {
      try await task.value
    } onCancel: {
      Task { await self.abandon(key, task: task) }
    }
  }

  private func leave(_ key: Key, task: Task<Value, any Error>) {
    guard var entry = running[key], entry.task == task else { return }
    entry.waiters -= 1
    running[key] = entry.waiters > 0 ? entry : nil
  }

  /// A waiter was cancelled: cancel the work if nobody else waits for it.
  private func abandon(_ key: Key, task: Task<Value, any Error>) {
    guard cancelWhenAbandoned, let entry = running[key], entry.task == task, entry.waiters <= 1 else { return }
    task.cancel()
  }
}
