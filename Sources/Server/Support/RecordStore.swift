import FoundationEssentials
import GRDB

/// A record the daemon keeps across restarts: pods and containers.
protocol StoredRecord: Codable, Sendable {
  /// The table, created by `RecordStore.registerMigration`.
  static var table: String { get }
  var id: String { get }
  /// The reserved name (unique while the record exists).
  var name: String { get }
}

/// Records of one kind, in memory for lookups and in the metadata database
/// (`<table>(id, name, record JSON)`) so a restarted daemon finds them again;
/// reserves names while a record is being created. Actor-held: no process is
/// spawned and no network call made while it is held.
actor RecordStore<Record: StoredRecord> {
  private var records: [String: Record] = [:]
  /// Names taken by existing records or by records being created.
  private var reservedNames: [String: String] = [:]
  private let database: DatabasePool
  private let kind: String

  static func registerMigration(in migrator: inout DatabaseMigrator, version: String) {
    migrator.registerMigration("\(version): \(Record.table)") { db in
      try db.execute(sql: """
        CREATE TABLE \(Record.table) (
          id TEXT PRIMARY KEY NOT NULL,
          name TEXT NOT NULL UNIQUE,
          record BLOB NOT NULL
        )
        """)
    }
  }

  /// Loads the records a previous daemon left. `kind` names them in messages.
  init(database: DatabasePool, kind: String) throws {
    self.database = database
    self.kind = kind
    let rows = try database.read { db in try Row.fetchAll(db, sql: "SELECT record FROM \(Record.table)") }
    let decoder = JSONDecoder()
    for row in rows {
      let bytes: Data = row["record"]
      let record = try decoder.decode(Record.self, from: bytes)
      records[record.id] = record
      reservedNames[record.name] = record.id
    }
  }

  enum Reservation: Sendable {
    case reserved
    /// The name belongs to this record (nil: one still being created).
    case taken(Record?)
  }

  /// Takes `name` for a record about to be created with `id`.
  func reserve(_ name: String, for id: String) -> Reservation {
    if let holder = reservedNames[name] { return .taken(records[holder]) }
    reservedNames[name] = id
    return .reserved
  }

  func releaseName(_ name: String, of id: String) {
    if reservedNames[name] == id { reservedNames[name] = nil }
  }

  func save(_ record: Record) throws {
    let bytes = try JSONEncoder().encode(record)
    try database.write { db in
      try db.execute(
        sql: "INSERT INTO \(Record.table) (id, name, record) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET record = excluded.record",
        arguments: [record.id, record.name, bytes])
    }
    records[record.id] = record
    reservedNames[record.name] = record.id
  }

  /// Changes the first record matching `predicate` in one step (no other
  /// call can remove it in between); false when none matches.
  func updateFirst(where predicate: (Record) -> Bool, _ change: (inout Record) -> Void) throws -> Bool {
    guard var record = records.values.first(where: predicate) else { return false }
    change(&record)
    try save(record)
    return true
  }

  func delete(_ id: String) throws {
    try database.write { db in try db.execute(sql: "DELETE FROM \(Record.table) WHERE id = ?", arguments: [id]) }
    if let record = records.removeValue(forKey: id), reservedNames[record.name] == id {
      reservedNames[record.name] = nil
    }
  }

  /// A record by full ID or unique prefix; nil when none matches.
  func find(_ idOrPrefix: String) throws(CRIError) -> Record? {
    guard !idOrPrefix.isEmpty else { throw .invalidArgument("no \(kind) ID given") }
    if let record = records[idOrPrefix] { return record }
    let matches = records.values.filter { $0.id.hasPrefix(idOrPrefix) }
    guard matches.count <= 1 else {
      throw .invalidArgument("\(kind) ID prefix \"\(idOrPrefix)\" is ambiguous (\(matches.count) match); give more of the ID")
    }
    return matches.first
  }

  func all() -> [Record] { Array(records.values) }
}
