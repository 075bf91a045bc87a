import Runtime
import Synchronization

/// The one owner of a container: its record changes only while `lock` is
/// held (see `ContainerSupervisor` for the transitions), and everyone else
/// reads the latest published copy without waiting.
final class ContainerOwner: Sendable {
  let id: String
  let layout: ContainerLayout
  let runtime: any ContainerRuntime
  /// Held across a whole transition, runc calls included.
  let lock = AsyncLock()
  /// Fired by the exit monitor when conmon records the exit; a stop waits
  /// on it instead of polling.
  let exit = OneShotEvent()
  private let current: Mutex<ContainerRecord>
  private let removedFlag = Atomic<Bool>(false)

  init(record: ContainerRecord, layout: ContainerLayout, runtime: any ContainerRuntime) {
    id = record.id
    self.layout = layout
    self.runtime = runtime
    current = Mutex(record)
  }

  /// The latest published record.
  var record: ContainerRecord { current.withLock { $0 } }

  /// Once removed, a container never comes back: transitions that were
  /// waiting for the lock find this and answer as for an unknown ID.
  var isRemoved: Bool { removedFlag.load(ordering: .acquiring) }

  /// Publishes a new record; only a holder of `lock` calls it.
  func publish(_ record: ContainerRecord) {
    current.withLock { $0 = record }
  }

  func markRemoved() { removedFlag.store(true, ordering: .releasing) }
}
