import Synchronization

/// A lock an async caller holds across suspension points, granted in FIFO
/// order. An entity's transitions take it so that one runs at a time: lock,
/// check the current state, act (runc, CNI), record, unlock, and never
/// "read a copy, await, save the copy" (actors are reentrant and would let
/// another call change the entity in the middle). It is not reentrant.
final class AsyncLock: Sendable {
  private struct State {
    var held = false
    var waiters: [CheckedContinuation<Void, Never>] = []
  }

  private let state = Mutex(State())

  func withLock<T: Sendable, E: Error>(_ body: () async throws(E) -> T) async throws(E) -> T {
    await acquire()
    defer { release() }
    return try await body()
  }

  private func acquire() async {
    let granted = state.withLock { state in
      guard state.held else {
        state.held = true
        return true
      }
      return false
    }
    guard !granted else { return }
    await withCheckedContinuation { continuation in
      let grantedNow = state.withLock { state in
        guard state.held else {
          state.held = true
          return true
        }
        state.waiters.append(continuation)
        return false
      }
      if grantedNow { continuation.resume() }
    }
  }

  private func release() {
    let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
      guard !state.waiters.isEmpty else {
        state.held = false
        return nil
      }
      // Ownership passes straight to the next waiter: `held` stays true.
      return state.waiters.removeFirst()
    }
    next?.resume()
  }
}

/// Something that happens once (a container's exit): waiters before it
/// are resumed when it does, waiters after it return at once.
final class OneShotEvent: Sendable {
  private struct State {
    var happened = false
    var waiters: [UInt64: CheckedContinuation<Bool, Never>] = [:]
    var next: UInt64 = 0
  }

  private let state = Mutex(State())

  var happened: Bool { state.withLock { $0.happened } }

  func signal() {
    let waiters = state.withLock { state -> [CheckedContinuation<Bool, Never>] in
      state.happened = true
      defer { state.waiters = [:] }
      return Array(state.waiters.values)
    }
    for waiter in waiters { waiter.resume(returning: true) }
  }

  /// True once it has happened; false when `timeout` passed first.
  func wait(timeout: Duration) async -> Bool {
    let token = state.withLock { state in
      defer { state.next += 1 }
      return state.next
    }
    let timer = Task {
      try? await Task.sleep(for: timeout)
      self.expire(token)
    }
    defer { timer.cancel() }
    return await withCheckedContinuation { continuation in
      let now = state.withLock { state in
        guard !state.happened else { return true }
        state.waiters[token] = continuation
        return false
      }
      if now { continuation.resume(returning: true) }
    }
  }

  private func expire(_ token: UInt64) {
    state.withLock { $0.waiters.removeValue(forKey: token) }?.resume(returning: false)
  }
}
