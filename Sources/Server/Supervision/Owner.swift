import Logging
import Synchronization

/// The one owner of a pod or container: its record changes only while
/// `lock` is held (the supervisors' transitions: lock, check the current
/// state, act, record, unlock), and everyone else reads the latest
/// published copy without waiting. `handles` are what the entity's
/// transitions work with (a container's layout, runtime and exit event).
final class Owner<Record: StoredRecord, Handles: Sendable>: Sendable {
  let id: String
  let handles: Handles
  /// Held across a whole transition, runc and CNI calls included.
  let lock = AsyncLock()
  private let current: Mutex<Record>
  private let removedFlag = Atomic<Bool>(false)

  init(record: Record, handles: Handles) {
    id = record.id
    self.handles = handles
    current = Mutex(record)
  }

  /// The latest published record.
  var record: Record { current.withLock { $0 } }

  /// Once removed, an entity never comes back: transitions that were
  /// waiting for the lock find this and answer as for an unknown ID.
  var isRemoved: Bool { removedFlag.load(ordering: .acquiring) }

  /// Publishes a new record; only a holder of `lock` calls it.
  func publish(_ record: Record) { current.withLock { $0 = record } }

  func markRemoved() { removedFlag.store(true, ordering: .releasing) }
}

/// The owners of one kind of entity and what they share: the in-memory
/// index (the read path), the reserved names, kubelet's retries, and the
/// journal every transition writes through.
final class Owners<Record: StoredRecord, Handles: Sendable>: Sendable {
  typealias Entity = Owner<Record, Handles>

  let index: OwnerIndex<Entity>
  let names = NameRegistry()
  let creations = CreationRetries()
  let journal: Journal<Record>
  let logger: Logger

  init(kind: String, journal: Journal<Record>, logger: Logger) {
    index = OwnerIndex(kind: kind)
    self.journal = journal
    self.logger = logger
  }

  /// Takes over an entity whose creation has finished: journal, then index.
  func register(_ owner: Entity) async throws(CRIError) {
    do {
      try await journal.save(owner.record)
    } catch {
      throw .internal("recording \(index.kind) \(owner.id): \(error)")
    }
    index.insert(owner, id: owner.id)
  }

  /// An entity found in the journal at start-up.
  func restore(_ owner: Entity) {
    index.insert(owner, id: owner.id)
    _ = names.reserve(owner.record.name, for: owner.id)
  }

  /// Journal, then memory; the caller holds the owner's lock. A journal
  /// that cannot be written is logged: the process really did change, and
  /// the next start-up reconciles the rest.
  func write(_ record: Record, to owner: Entity) async {
    do {
      try await journal.save(record)
    } catch {
      logger.error("Cannot journal \(index.kind)", metadata: ["id": "\(record.id)", "error": "\(error)"])
    }
    owner.publish(record)
  }

  /// Forgets a removed entity for good: journal, index, name, retry
  /// claim. The caller holds the owner's lock.
  func unregister(_ owner: Entity) async throws(CRIError) {
    let record = owner.record
    do {
      try await journal.delete(record.id)
    } catch {
      throw .internal("removing the record of \(index.kind) \(record.id): \(error)")
    }
    owner.markRemoved()
    index.remove(record.id)
    names.release(record.name, of: record.id)
    await creations.forget(record.name)
  }
}
