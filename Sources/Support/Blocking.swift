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
public enum Blocking {
  private static let pool = ThreadPool(threads: 8, niceness: 5)

  public static func run<T: Sendable, E: Error>(_ body: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
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

  /// Lowers the calling thread's scheduling priority by `niceness` (Linux
  /// keeps nice values per thread).
  public static func lowerThreadPriority(by niceness: Int32) {
    _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, niceness)
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
