import CSupport
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Waits for descriptors to become readable without holding a thread per
/// wait and without polling: one thread blocks in epoll_wait for every
/// waiter of the process and resumes each when the kernel says its
/// descriptor is ready (data, end of file, a hang-up, a process's pidfd
/// when it ends, an inotify event), or when its deadline passes.
public final class Readiness: Sendable {
  public static let shared = Readiness()

  private struct Waiter {
    var continuation: CheckedContinuation<Bool, Never>
    /// The duplicate registered with epoll (each waiter its own, so two
    /// waits on one descriptor never collide), closed when it is resumed.
    var registered: Int32
    var deadline: ContinuousClock.Instant?
  }

  private struct State {
    var waiters: [UInt64: Waiter] = [:]
    var nextToken: UInt64 = 1
  }

  private let epoll: Int32
  /// Written to wake the thread when an earlier deadline arrives.
  private let wake: Int32
  private let state = Mutex(State())
  private static let wakeToken: UInt64 = 0

  private init() {
    epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
    wake = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
    precondition(epoll >= 0 && wake >= 0, "epoll and eventfd are required: \(SystemError("epoll_create1").reason)")
    var event = epoll_event()
    event.events = EPOLLIN.rawValue
    event.data.u64 = Self.wakeToken
    epoll_ctl(epoll, EPOLL_CTL_ADD, wake, &event)
    let this = Unmanaged.passRetained(self).toOpaque()
    var thread = pthread_t()
    let created = pthread_create(&thread, nil, { argument in
      Unmanaged<Readiness>.fromOpaque(argument!).takeUnretainedValue().run()
      return nil
    }, this)
    precondition(created == 0, "cannot start the readiness thread")
    pthread_detach(thread)
  }

  /// Waits until `fd` is readable (or at end of file, hung up, in error),
  /// at most `timeout` (nil: no limit). True when it is ready, false when
  /// the time ran out or the task was cancelled.
  public func waitReadable(_ fd: Int32, timeout: Duration? = nil) async -> Bool {
    let registered = fcntl(fd, F_DUPFD_CLOEXEC, 0)
    guard registered >= 0 else { return true }  // a bad descriptor: let the caller's read say why
    let deadline = timeout.map { ContinuousClock.now + $0 }
    let token = state.withLock { state in
      defer { state.nextToken += 1 }
      return state.nextToken
    }
    return await withTaskCancellationHandler {
      await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
        let cancelled = state.withLock { state in
          guard !Task.isCancelled else { return true }
          state.waiters[token] = Waiter(continuation: continuation, registered: registered, deadline: deadline)
          return false
        }
        if cancelled {
          close(registered)
          continuation.resume(returning: false)
          return
        }
        var event = epoll_event()
        event.events = EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLONESHOT.rawValue
        event.data.u64 = token
        if epoll_ctl(epoll, EPOLL_CTL_ADD, registered, &event) != 0 {
          // Regular files cannot be watched (EPERM): they are always ready.
          resume(token, ready: true)
          return
        }
        if deadline != nil { signalWake() }
      }
    } onCancel: {
      resume(token, ready: false)
    }
  }

  private func resume(_ token: UInt64, ready: Bool) {
    guard let waiter = state.withLock({ $0.waiters.removeValue(forKey: token) }) else { return }
    epoll_ctl(epoll, EPOLL_CTL_DEL, waiter.registered, nil)
    close(waiter.registered)
    waiter.continuation.resume(returning: ready)
  }

  private func signalWake() {
    var one: UInt64 = 1
    _ = write(wake, &one, 8)
  }

  /// The thread: epoll_wait until the nearest deadline, resume what is ready
  /// and what has expired.
  private func run() -> Never {
    // A buffer of its own, not an Array: the loop never returns, and an
    // array slice of one iteration kept alive into the next made every
    // epoll_wait copy the array (a leak of its size per wake-up).
    let capacity = 64
    let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: capacity)
    events.initialize(repeating: epoll_event(), count: capacity)
    while true {
      let nearest = state.withLock { state in state.waiters.values.compactMap(\.deadline).min() }
      var timeout: Int32 = -1
      if let nearest {
        let remaining = nearest - ContinuousClock.now
        let (seconds, attoseconds) = remaining.components
        timeout = remaining <= .zero ? 0 : Int32(clamping: seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
      }
      let count = epoll_wait(epoll, events, Int32(capacity), timeout)
      for index in 0..<max(0, Int(count)) {
        let token = events[index].data.u64
        if token == Self.wakeToken {
          var drained: UInt64 = 0
          _ = read(wake, &drained, 8)
        } else {
          resume(token, ready: true)
        }
      }
      let now = ContinuousClock.now
      let expired = state.withLock { state in
        state.waiters.filter { $0.value.deadline.map { $0 <= now } ?? false }.map(\.key)
      }
      for token in expired { resume(token, ready: false) }
    }
  }
}
