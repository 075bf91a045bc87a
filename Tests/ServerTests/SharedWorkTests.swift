import Synchronization
import Testing

@testable import Server

/// Concurrent pulls of one image share one piece of work, and a caller that
/// goes away (its deadline passed) cancels the work only when nobody else
/// waits for it.
@Suite struct SharedWorkTests {
  final class Counter: Sendable {
    let runs = Atomic<Int>(0)
    let cancelled = Atomic<Bool>(false)
  }

  /// Waits (polling, with a generous deadline) until `key` has `count` waiters.
  func waitForWaiters<V: Sendable>(_ work: SharedWork<String, V>, _ key: String, _ count: Int) async throws {
    let deadline = ContinuousClock.now + .seconds(30)
    while await work.waiters(for: key) < count {
      guard ContinuousClock.now < deadline else {
        Issue.record("never saw \(count) waiters")
        return
      }
      try await Task.sleep(for: .milliseconds(5))
    }
  }

  @Test func callersOfOneKeyShareOneRun() async throws {
    let work = SharedWork<String, Int>()
    let counter = Counter()
    let results = try await withThrowingTaskGroup(of: Int.self) { group in
      for _ in 0..<8 {
        group.addTask {
          try await work.run("image") {
            counter.runs.add(1, ordering: .relaxed)
            try await Task.sleep(for: .milliseconds(200))
            return 42
          }
        }
      }
      return try await group.reduce(into: [Int]()) { $0.append($1) }
    }
    #expect(results == Array(repeating: 42, count: 8))
    let runs = counter.runs.load(ordering: .relaxed)
    #expect(runs == 1)
  }

  @Test func theLastCallerGoingAwayCancelsTheWork() async throws {
    let work = SharedWork<String, Int>()
    let counter = Counter()
    let caller = Task {
      try await work.run("image") {
        do {
          try await Task.sleep(for: .seconds(60))
        } catch {
          counter.cancelled.store(true, ordering: .relaxed)
          throw error
        }
        return 1
      }
    }
    try await waitForWaiters(work, "image", 1)
    caller.cancel()
    await #expect(throws: CancellationError.self) { try await caller.value }
    let wasCancelled = counter.cancelled.load(ordering: .relaxed)
    #expect(wasCancelled)
  }

  @Test func workOthersWaitForGoesOn() async throws {
    let work = SharedWork<String, Int>()
    let gone = Task { try await work.run("image") { try await Task.sleep(for: .seconds(1)); return 7 } }
    try await waitForWaiters(work, "image", 1)
    let staying = Task { try await work.run("image") { Issue.record("a second run started"); return 0 } }
    try await waitForWaiters(work, "image", 2)
    gone.cancel()
    #expect(try await staying.value == 7)
  }

  @Test func workThatMustFinishIsNotCancelled() async throws {
    // Pod creation: kubelet's retry collects what the first call made.
    let work = SharedWork<String, Int>(cancelWhenAbandoned: false)
    let counter = Counter()
    let caller = Task {
      try await work.run("pod") {
        try await Task.sleep(for: .milliseconds(200))
        counter.runs.add(1, ordering: .relaxed)
        return 3
      }
    }
    try await waitForWaiters(work, "pod", 1)
    caller.cancel()
    #expect(try await caller.value == 3, "the work finished and its caller still got the result")
    let runs = counter.runs.load(ordering: .relaxed)
    #expect(runs == 1)
  }
}
