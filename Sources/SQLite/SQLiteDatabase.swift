import CSQLite
import Dispatch
import Synchronization

/// A database file in WAL mode with one writer connection and a few
/// readers: reads run concurrently with each other and with a write, and
/// each read or write is one transaction, so a read sees one state and a
/// crash never leaves half a write.
public final class SQLiteDatabase: Sendable {
  public let path: String
  private let writer: Mutex<Slot>
  /// Idle readers; a read takes one or opens one, and gives it back.
  private let readers = Mutex<[Slot]>([])
  private let busyTimeoutMilliseconds: Int32
  /// Where async writes wait for the writer, off Swift's cooperative pool
  /// (whose few threads must never block on a lock or an fsync).
  private let writeQueue = DispatchQueue(label: "sqlite-writer")

  private static let idleReadersKept = 4

  /// Opens (creating) the file and switches it to WAL.
  public init(path: String, busyTimeoutSeconds: Int32 = 10) throws(SQLiteError) {
    self.path = path
    busyTimeoutMilliseconds = busyTimeoutSeconds * 1000
    let connection = try SQLiteConnection(path: path, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
    guard try connection.texts("PRAGMA journal_mode = WAL") == ["wal"] else {
      throw SQLiteError(code: SQLITE_ERROR, message: "\(path): cannot use WAL journal mode")
    }
    writer = Mutex(Slot(connection))
  }

  /// A connection with one user at a time: the writer under its lock, a
  /// reader while taken out of the idle list. That discipline, which the
  /// type system cannot see, is what makes handing it between threads safe.
  private final class Slot: @unchecked Sendable {
    let connection: SQLiteConnection
    init(_ connection: SQLiteConnection) { self.connection = connection }
  }

  /// `body` in a read transaction on a reader connection.
  public func read<T: Sendable>(_ body: (SQLiteConnection) throws -> T) throws -> T {
    let reader = try takeReader()
    defer { giveBack(reader) }
    return try reader.connection.transaction(immediate: false, body)
  }

  /// `body` in a write transaction, on the caller's thread.
  public func write<T: Sendable>(_ body: (SQLiteConnection) throws -> T) throws -> T {
    try writer.withLock { slot throws -> T in try slot.connection.transaction(immediate: true, body) }
  }

  /// `body` in a write transaction, on the writer's own queue.
  public func write<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
      writeQueue.async {
        continuation.resume(with: Result { try self.write(body) })
      }
    }
  }

  /// Runs the migrations not yet applied, in order, in one transaction.
  /// Applied ones are recorded in `grdb_migrations`, the table GRDB's
  /// migrator kept: databases written by earlier versions, which used GRDB,
  /// open as they are.
  public func migrate(_ migrations: SQLiteMigrations) throws {
    try write { connection in
      try connection.execute("CREATE TABLE IF NOT EXISTS grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY)")
      let applied = Set(try connection.texts("SELECT identifier FROM grdb_migrations"))
      for (identifier, migration) in migrations.steps where !applied.contains(identifier) {
        try migration(connection)
        try connection.execute("INSERT INTO grdb_migrations (identifier) VALUES (?)", identifier)
      }
    }
  }

  private func takeReader() throws(SQLiteError) -> Slot {
    if let idle = readers.withLock({ $0.popLast() }) { return idle }
    let connection = try SQLiteConnection(path: path, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
    // A reader that tried to write would take the lock the writer needs.
    try connection.execute("PRAGMA query_only = 1")
    return Slot(connection)
  }

  private func giveBack(_ reader: Slot) {
    readers.withLock { idle in
      if idle.count < Self.idleReadersKept { idle.append(reader) }
    }
  }
}

/// Schema changes by identifier, applied once per database in the order
/// registered: storage registers its tables, the daemon its own after them.
public struct SQLiteMigrations: Sendable {
  var steps: [(String, @Sendable (SQLiteConnection) throws -> Void)] = []

  public init() {}

  public mutating func register(_ identifier: String, _ migration: @escaping @Sendable (SQLiteConnection) throws -> Void) {
    steps.append((identifier, migration))
  }
}
