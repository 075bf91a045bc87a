import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Runs blocking work (layer unpacking, SQLite writes, large file-tree
/// removals, fsync) on a pool of its own threads instead of Swift's
/// cooperative pool, which has one thread per core: on a 2-core node one
/// slow unpack there would stall every gRPC handler. (`Task.detached` is not
/// another pool: it runs on the same threads.) The pool's threads run at a
/// lower priority (nice 5), so on a busy node the RPCs kubelet waits on are
/// scheduled before background unpacking.
///
/// Process spawns have threads of their own at the daemon's priority: a
/// child inherits the nice value of the thread that forks it, and conmon,
/// runc and through them every container must not run at the daemon's
/// background priority.
public enum Blocking {
  private static let pool = ThreadPool(threads: 8, niceness: 5)
  private static let spawning = ThreadPool(threads: 2, niceness: 0)

  public static func run<T: Sendable, E: Error>(_ body: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
    try await run(on: pool, body)
  }

  /// Runs a process spawn (which blocks until the child has exec'd) off the
  /// cooperative pool, on a thread at the daemon's own priority.
  public static func spawn<T: Sendable, E: Error>(_ body: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
    try await run(on: spawning, body)
  }

  /// Runs work that may block for as long as some other task takes (a
  /// layer unpacked as its download arrives) on a thread of its own at the
  /// pool's priority: in the pool it could wait behind, or hold up, other
  /// work while its producer is the one that is slow.
  public static func runOnOwnThread<T: Sendable, E: Error>(_ body: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
    let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, E>, Never>) in
      let job: @Sendable () -> Void = {
        do throws(E) {
          continuation.resume(returning: .success(try body()))
        } catch {
          continuation.resume(returning: .failure(error))
        }
      }
      // Out of threads: the pool still runs it, later.
      if !Thread({ Blocking.lowerThreadPriority(by: 5); job() }) { pool.submit(job) }
    }
    return try result.get()
  }

  private static func run<T: Sendable, E: Error>(
    on pool: ThreadPool, _ body: @escaping @Sendable () throws(E) -> T
  ) async throws(E) -> T {
    let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, E>, Never>) in
      pool.submit {
        do throws(E) {
          continuation.resume(returning: .success(try body()))
        } catch {
          continuation.resume(returning: .failure(error))
        }
      }
    }
    return try result.get()
  }

  /// Sets the calling thread's nice value to the daemon's own (its main
  /// thread's) plus `niceness`. Linux keeps nice values per thread, and a
  /// new thread starts with its creator's, so a pool made from a background
  /// thread would otherwise keep that thread's priority.
  public static func lowerThreadPriority(by niceness: Int32) {
    let which = __priority_which_t(PRIO_PROCESS.rawValue)
    let base = getpriority(which, id_t(getpid()))
    _ = setpriority(which, 0, base + niceness)
  }
}

/// Threads that take jobs in order from one queue.
final class ThreadPool: Sendable {
  private let jobs = Mutex<[@Sendable () -> Void]>([])
  private let waiting = DispatchSemaphore(value: 0)

  init(threads: Int, niceness: Int32) {
    for _ in 0..<threads {
      let started = Thread { [self] in
        Blocking.lowerThreadPriority(by: niceness)
        while true {
          waiting.wait()
          guard let job = jobs.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) else { continue }
          job()
        }
      }
      precondition(started, "cannot start the blocking-work threads")
    }
  }

  func submit(_ job: @escaping @Sendable () -> Void) {
    jobs.withLock { $0.append(job) }
    waiting.signal()
  }
}

/// A detached pthread running `body`; false when it could not be started.
private func Thread(_ body: @escaping @Sendable () -> Void) -> Bool {
  final class Box: @unchecked Sendable {
    let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }
  }
  let box = Unmanaged.passRetained(Box(body)).toOpaque()
  var thread = pthread_t()
  let created = pthread_create(&thread, nil, { argument in
    let box = Unmanaged<Box>.fromOpaque(argument!).takeRetainedValue()
    box.body()
    return nil
  }, box)
  guard created == 0 else {
    Unmanaged<Box>.fromOpaque(box).release()
    return false
  }
  pthread_detach(thread)
  return true
}
