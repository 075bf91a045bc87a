import CRIAPI
import Synchronization

/// Kubelet's evented PLEG (GetContainerEvents): every transition of every
/// container, in order, to each subscriber. Publishing never waits: each
/// subscriber has a bounded queue, and one that falls that far behind (a
/// slow or vanished client) is dropped with an error, after which kubelet
/// relists. With `enable_pod_events = false` nothing is published.
final class ContainerEventHub: Sendable {
  typealias Event = Runtime_V1_ContainerEventResponse
  /// The pod's status and its containers' statuses at the moment of an
  /// event, as the CRI sends them; set once the daemon's state exists.
  typealias StatusSource = @Sendable (ContainerRecord) -> (pod: Runtime_V1_PodSandboxStatus?, containers: [Runtime_V1_ContainerStatus])

  let enabled: Bool
  /// Events a subscriber may have waiting before it is dropped.
  let capacity: Int
  private let subscribers = Mutex<[UInt64: Subscription]>([:])
  private let nextID = Atomic<UInt64>(0)
  private let source = Mutex<StatusSource?>(nil)
  /// Events of start-up recovery (exits while the daemon was down, containers
  /// whose pod is gone), replayed first to each subscriber that connects
  /// soon after the start: kubelet reconnects after a runtime restart and
  /// learns of them without waiting for its next relist.
  private let retained = Mutex<(events: [Event], keeping: Bool)>(([], true))

  /// Told how many events a dropped subscriber lost.
  private let onDrop: @Sendable (Int) -> Void

  init(enabled: Bool, capacity: Int = 1024, onDrop: @escaping @Sendable (Int) -> Void = { _ in }) {
    self.enabled = enabled
    self.capacity = capacity
    self.onDrop = onDrop
  }

  func setStatusSource(_ source: @escaping StatusSource) {
    self.source.withLock { $0 = source }
  }

  func publish(_ type: Runtime_V1_ContainerEventType, record: ContainerRecord) {
    guard enabled else { return }
    let targets = subscribers.withLock { Array($0.values) }
    let keeping = retained.withLock { $0.keeping && $0.events.count < capacity }
    guard !targets.isEmpty || keeping else { return }
    var event = Event()
    event.containerID = record.id
    event.containerEventType = type
    event.createdAt = DaemonContext.now()
    if let statuses = source.withLock({ $0 })?(record) {
      if let pod = statuses.pod { event.podSandboxStatus = pod }
      event.containersStatuses = statuses.containers
    }
    if keeping { retained.withLock { $0.events.append(event) } }
    for subscriber in targets {
      let dropped = subscriber.deliver(event)
      if dropped > 0 { onDrop(dropped) }
    }
  }

  /// Recovery is over: its events are replayed to subscribers for `window`
  /// more, then dropped; later events are only delivered live.
  func endRecovery(replayFor window: Duration = .seconds(60)) {
    retained.withLock { $0.keeping = false }
    Task {
      try? await Task.sleep(for: window)
      self.retained.withLock { $0.events = [] }
    }
  }

  /// A new subscriber's events, from now on; it ends (and unsubscribes)
  /// when the consuming task is cancelled.
  func subscribe() -> Subscription {
    let id = nextID.add(1, ordering: .relaxed).newValue
    let subscription = Subscription(capacity: capacity) { [weak self] in
      _ = self?.subscribers.withLock { $0.removeValue(forKey: id) }
    }
    // Under the subscribers' lock: no live event can slip in before the replay.
    subscribers.withLock { subscribers in
      for event in retained.withLock({ $0.keeping ? [] : $0.events }) { subscription.deliver(event) }
      subscribers[id] = subscription
    }
    return subscription
  }

  var subscriberCount: Int { subscribers.withLock { $0.count } }

  /// One subscriber's queue.
  final class Subscription: AsyncSequence, Sendable {
    typealias Element = Event

    struct Overflow: Error, CustomStringConvertible {
      let capacity: Int
      var description: String {
        "more than \(capacity) container events were waiting for this subscriber; it was dropped (relist and subscribe again)"
      }
    }

    private struct State {
      var queue: [Event] = []
      var waiter: CheckedContinuation<Event?, any Error>?
      var overflowed = false
      var finished = false
    }

    private let state = Mutex(State())
    private let capacity: Int
    private let onEnd: @Sendable () -> Void

    init(capacity: Int, onEnd: @escaping @Sendable () -> Void) {
      self.capacity = capacity
      self.onEnd = onEnd
    }

    /// Queues the event, or hands it to a waiting reader; returns how many
    /// events were dropped (the queue and this one) when it overflowed.
    @discardableResult
    func deliver(_ event: Event) -> Int {
      var dropped = 0
      let resume = state.withLock { state -> (CheckedContinuation<Event?, any Error>, Result<Event?, any Error>)? in
        guard !state.finished, !state.overflowed else { return nil }
        if let waiter = state.waiter {
          state.waiter = nil
          return (waiter, .success(event))
        }
        guard state.queue.count < capacity else {
          state.overflowed = true
          dropped = state.queue.count + 1
          state.queue = []
          return nil
        }
        state.queue.append(event)
        return nil
      }
      if let (waiter, result) = resume { waiter.resume(with: result) }
      if state.withLock({ $0.overflowed }) { onEnd() }
      return dropped
    }

    func next() async throws -> Event? {
      try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
          let now = state.withLock { state -> Result<Event?, any Error>? in
            if !state.queue.isEmpty { return .success(state.queue.removeFirst()) }
            if state.overflowed { return .failure(Overflow(capacity: capacity)) }
            if state.finished || Task.isCancelled { return .success(nil) }
            state.waiter = continuation
            return nil
          }
          if let now { continuation.resume(with: now) }
        }
      } onCancel: {
        finish()
      }
    }

    func finish() {
      let waiter = state.withLock { state -> CheckedContinuation<Event?, any Error>? in
        state.finished = true
        defer { state.waiter = nil }
        return state.waiter
      }
      waiter?.resume(returning: nil)
      onEnd()
    }

    struct AsyncIterator: AsyncIteratorProtocol {
      let subscription: Subscription
      mutating func next() async throws -> Event? { try await subscription.next() }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(subscription: self) }
  }
}
