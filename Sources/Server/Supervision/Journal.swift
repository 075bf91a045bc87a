import FoundationEssentials
import SQLite

/// A record the daemon keeps across restarts: pods and containers.
protocol StoredRecord: Codable, Sendable {
  /// The table, created by `Journal.registerMigration`.
  static var table: String { get }
  var id: String { get }
  /// The reserved name (unique while the record exists).
  var name: String { get }
}

/// Records of one kind in the metadata database (`<table>(id, name, record
/// JSON)`): the journal each transition writes through, read once at
/// start-up to rebuild the in-memory index. Writes go through the database's
/// writer queue, never blocking a thread of Swift's cooperative pool.
struct Journal<Record: StoredRecord>: Sendable {
  let database: SQLiteDatabase

  static func registerMigration(in migrations: inout SQLiteMigrations, version: String) {
    migrations.register("\(version): \(Record.table)") { db in
      try db.execute("""
        CREATE TABLE \(Record.table) (
          id TEXT PRIMARY KEY NOT NULL,
          name TEXT NOT NULL UNIQUE,
          record BLOB NOT NULL
        )
        """)
    }
  }

  /// The records a previous daemon left (start-up only).
  func load() throws -> [Record] {
    let rows = try database.read { db in try db.rows("SELECT record FROM \(Record.table)") }
    let decoder = JSONDecoder()
    return try rows.map { row in try decoder.decode(Record.self, from: Data(try row.blob("record"))) }
  }

  func save(_ record: Record) async throws {
    let bytes = Array(try JSONEncoder().encode(record))
    let (id, name) = (record.id, record.name)
    try await database.write { db in
      try db.execute(
        "INSERT INTO \(Record.table) (id, name, record) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET record = excluded.record",
        id, name, bytes)
    }
  }

  func delete(_ id: String) async throws {
    try await database.write { db in try db.execute("DELETE FROM \(Record.table) WHERE id = ?", id) }
  }
}
