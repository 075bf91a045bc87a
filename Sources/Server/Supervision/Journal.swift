import FoundationEssentials
import GRDB

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
/// start-up to rebuild the in-memory index. Writes go through GRDB's own
/// writer queue, never blocking a thread of Swift's cooperative pool.
struct Journal<Record: StoredRecord>: Sendable {
  let database: DatabasePool

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

  /// The records a previous daemon left (start-up only).
  func load() throws -> [Record] {
    let rows = try database.read { db in try Row.fetchAll(db, sql: "SELECT record FROM \(Record.table)") }
    let decoder = JSONDecoder()
    return try rows.map { row in
      let bytes: Data = row["record"]
      return try decoder.decode(Record.self, from: bytes)
    }
  }

  func save(_ record: Record) async throws {
    let bytes = try JSONEncoder().encode(record)
    try await database.write { db in
      try db.execute(
        sql: "INSERT INTO \(Record.table) (id, name, record) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET record = excluded.record",
        arguments: [record.id, record.name, bytes])
    }
  }

  func delete(_ id: String) async throws {
    try await database.write { db in try db.execute(sql: "DELETE FROM \(Record.table) WHERE id = ?", arguments: [id]) }
  }
}
