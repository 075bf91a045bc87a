import SQLite
import Support
import Testing

/// The metadata database's SQLite wrapper on real files: values round-trip,
/// transactions are all or nothing, migrations run once, and databases an
/// earlier version wrote through GRDB open as they are.
@Suite struct SQLiteDatabaseTests {
  struct Failure: Error {}

  static func withDatabase(_ body: (SQLiteDatabase, String) throws -> Void) throws {
    let directory = try Files.makeTemporaryDirectory(prefix: "sqlite-")
    defer { Files.removeTree(directory) }
    let path = directory + "/test.db"
    try body(try SQLiteDatabase(path: path), path)
  }

  @Test func everyStorageClassRoundTrips() throws {
    try Self.withDatabase { database, _ in
      try database.write { db in
        try db.execute("CREATE TABLE t (n INTEGER, r REAL, s TEXT, b BLOB, z BLOB, o TEXT)")
        try db.execute("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)", Int64.min, 1.0 / 3.0, "ünï ☃", [0, 255, 7] as [UInt8], [UInt8](), String?.none)
      }
      let row = try #require(try database.read { db in try db.firstRow("SELECT * FROM t") })
      #expect(try row.integer("n") == Int64.min)
      #expect(try row.real("r") == 1.0 / 3.0)
      #expect(try row.text("s") == "ünï ☃")
      #expect(try row.blob("b") == [0, 255, 7])
      #expect(row["z"] == .blob([]), "an empty blob stays a blob")
      #expect(try row.optionalText("o") == nil)
      #expect(throws: SQLiteError.self) { try row.integer("s") }
      #expect(row["absent"] == .null)
    }
  }

  @Test func aThrowingWriteLeavesNothing() throws {
    try Self.withDatabase { database, _ in
      try database.write { db in try db.execute("CREATE TABLE t (id TEXT PRIMARY KEY)") }
      #expect(throws: Failure.self) {
        try database.write { db in
          try db.execute("INSERT INTO t VALUES (?)", "a")
          throw Failure()
        }
      }
      let error = try #require(throws: SQLiteError.self) {
        try database.write { db in
          try db.execute("INSERT INTO t VALUES (?)", "b")
          try db.execute("INSERT INTO t VALUES (?)", "b")
        }
      }
      #expect(error.description.contains("UNIQUE constraint failed: t.id"), "\(error)")
      #expect(try database.read { db in try db.texts("SELECT id FROM t") } == [])
      #expect(throws: SQLiteError.self) { try database.write { db in try db.execute("INSERT INTO t VALUES (?)", "x", "y") } }
    }
  }

  @Test func foreignKeysCascade() throws {
    try Self.withDatabase { database, _ in
      try database.write { db in
        try db.executeScript("""
          CREATE TABLE parent (id TEXT PRIMARY KEY);
          CREATE TABLE child (parentID TEXT REFERENCES parent(id) ON DELETE CASCADE);
          """)
        try db.execute("INSERT INTO parent VALUES ('p')")
        try db.execute("INSERT INTO child VALUES ('p')")
        try db.execute("DELETE FROM parent")
      }
      #expect(try database.read { db in try db.rows("SELECT * FROM child") }.isEmpty)
    }
  }

  @Test func readersCannotWrite() throws {
    try Self.withDatabase { database, _ in
      try database.write { db in try db.execute("CREATE TABLE t (id TEXT)") }
      #expect(throws: SQLiteError.self) { try database.read { db in try db.execute("INSERT INTO t VALUES ('r')") } }
    }
  }

  @Test func migrationsRunOnceInOrder() throws {
    try Self.withDatabase { database, path in
      var migrations = SQLiteMigrations()
      migrations.register("one") { db in try db.execute("CREATE TABLE t (id TEXT)") }
      migrations.register("two") { db in try db.execute("ALTER TABLE t ADD COLUMN name TEXT") }
      try database.migrate(migrations)
      // A second open runs none again (CREATE TABLE would fail), but does a new one.
      let reopened = try SQLiteDatabase(path: path)
      migrations.register("three") { db in try db.execute("INSERT INTO t VALUES ('a', 'b')") }
      try reopened.migrate(migrations)
      try reopened.migrate(migrations)
      #expect(try reopened.read { db in try db.texts("SELECT identifier FROM grdb_migrations ORDER BY rowid") } == ["one", "two", "three"])
      #expect(try reopened.read { db in try db.texts("SELECT name FROM t") } == ["b"])
      #expect(try reopened.read { db in try db.texts("PRAGMA journal_mode") } == ["wal"])
    }
  }

  @Test func aFailedMigrationAppliesNoneOfItsBatch() throws {
    try Self.withDatabase { database, _ in
      var migrations = SQLiteMigrations()
      migrations.register("one") { db in try db.execute("CREATE TABLE t (id TEXT)") }
      migrations.register("bad") { _ in throw Failure() }
      #expect(throws: Failure.self) { try database.migrate(migrations) }
      let tables = try database.read { db in try db.texts("SELECT name FROM sqlite_master WHERE name = 't'") }
      #expect(tables == [])
    }
  }

  @Test func concurrentWritesAndReadsAllLand() async throws {
    let directory = try Files.makeTemporaryDirectory(prefix: "sqlite-")
    defer { Files.removeTree(directory) }
    let database = try SQLiteDatabase(path: directory + "/test.db")
    try await database.write { db in try db.execute("CREATE TABLE t (n INTEGER)") }
    try await withThrowingTaskGroup(of: Void.self) { group in
      for n in 0..<50 {
        group.addTask { try await database.write { db in try db.execute("INSERT INTO t VALUES (?)", n) } }
        group.addTask { _ = try database.read { db in try db.rows("SELECT count(*) FROM t") } }
      }
      try await group.waitForAll()
    }
    let count = try database.read { db in try db.firstRow("SELECT count(*) AS c FROM t") }
    #expect(try count?.integer("c") == 50)
  }
}
