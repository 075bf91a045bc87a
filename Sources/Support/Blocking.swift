import Dispatch

/// Runs blocking work (layer unpacking, SQLite writes, large file-tree
/// removals, fsync) on dispatch's worker threads instead of Swift's
/// cooperative pool, which has one thread per core: on a 2-core node one
/// slow unpack there would stall every gRPC handler. (`Task.detached` is not
/// another pool: it runs on the same threads.)
public enum Blocking {
  private static let queue = DispatchQueue(label: "crio.blocking", attributes: .concurrent)

  public static func run<T: Sendable, E: Error>(_ body: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
    let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, E>, Never>) in
      queue.async {
        do throws(E) {
          continuation.resume(returning: .success(try body()))
        } catch {
          continuation.resume(returning: .failure(error))
        }
      }
    }
    return try result.get()
  }
}
