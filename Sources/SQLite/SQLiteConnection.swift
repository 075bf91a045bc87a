import CSQLite

/// One connection to a database file, used by one thread at a time: the
/// `SQLiteDatabase` that owns it hands it out under a lock.
public final class SQLiteConnection {
  private let handle: OpaquePointer

  /// Opens (creating) the file. Foreign keys are enforced (the schema's
  /// ON DELETE CASCADE relies on it); a locked database is waited for up to
  /// `busyTimeoutMilliseconds` instead of failing at once.
  init(path: String, busyTimeoutMilliseconds: Int32) throws(SQLiteError) {
    var opened: OpaquePointer?
    // NOMUTEX: the owner serialises use; SQLite's own mutex would be a second lock.
    let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
    let code = sqlite3_open_v2(path, &opened, flags, nil)
    guard code == SQLITE_OK, let opened else {
      let error = SQLiteError(opened, code: code, sql: nil)
      sqlite3_close_v2(opened)
      throw SQLiteError(code: error.code, message: "\(path): \(error.message)")
    }
    handle = opened
    sqlite3_extended_result_codes(handle, 1)
    sqlite3_busy_timeout(handle, busyTimeoutMilliseconds)
    // Fully initialised by now: on a throw, deinit closes the handle.
    try execute("PRAGMA foreign_keys = ON")
  }

  deinit {
    sqlite3_close_v2(handle)
  }

  /// Runs one statement, binding `arguments` to its `?`s in order.
  public func execute(_ sql: String, _ arguments: any SQLBindable...) throws(SQLiteError) {
    _ = try run(sql, arguments, collect: false)
  }

  /// Runs statements separated by semicolons, without arguments (schema).
  public func executeScript(_ sql: String) throws(SQLiteError) {
    var message: UnsafeMutablePointer<CChar>?
    let code = sqlite3_exec(handle, sql, nil, nil, &message)
    defer { sqlite3_free(message) }
    guard code == SQLITE_OK else {
      throw SQLiteError(code: code, message: message.map { String(cString: $0) } ?? "", sql: sql)
    }
  }

  /// Every row the query returns.
  public func rows(_ sql: String, _ arguments: any SQLBindable...) throws(SQLiteError) -> [SQLRow] {
    try run(sql, arguments, collect: true)
  }

  /// The first row, if any.
  public func firstRow(_ sql: String, _ arguments: any SQLBindable...) throws(SQLiteError) -> SQLRow? {
    try run(sql, arguments, collect: true).first
  }

  /// The first column of every row, as text (NULLs skipped).
  public func texts(_ sql: String, _ arguments: any SQLBindable...) throws(SQLiteError) -> [String] {
    try run(sql, arguments, collect: true).compactMap { row in
      if case .text(let value) = row.values.first { value } else { nil }
    }
  }

  /// `body` in a transaction: committed when it returns, rolled back when it
  /// throws. IMMEDIATE takes the write lock up front, so a writer from
  /// outside makes this wait (busy timeout) rather than fail halfway.
  func transaction<T>(immediate: Bool, _ body: (SQLiteConnection) throws -> T) throws -> T {
    try execute(immediate ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED")
    let result: T
    do {
      result = try body(self)
    } catch {
      try? execute("ROLLBACK")
      throw error
    }
    do {
      try execute("COMMIT")
    } catch {
      try? execute("ROLLBACK")
      throw error
    }
    return result
  }

  private func run(_ sql: String, _ arguments: [any SQLBindable], collect: Bool) throws(SQLiteError) -> [SQLRow] {
    var prepared: OpaquePointer?
    let code = sqlite3_prepare_v2(handle, sql, -1, &prepared, nil)
    guard code == SQLITE_OK, let statement = prepared else { throw SQLiteError(handle, code: code, sql: sql) }
    defer { sqlite3_finalize(statement) }
    let expected = Int(sqlite3_bind_parameter_count(statement))
    guard expected == arguments.count else {
      throw SQLiteError(code: SQLITE_RANGE, message: "\(arguments.count) arguments for \(expected) parameters", sql: sql)
    }
    for (offset, argument) in arguments.enumerated() {
      try bind(argument.sqlValue, at: Int32(offset + 1), in: statement, sql: sql)
    }
    let columnCount = sqlite3_column_count(statement)
    let columns = (0..<columnCount).map { String(cString: sqlite3_column_name(statement, $0)) }
    var rows: [SQLRow] = []
    while true {
      let step = sqlite3_step(statement)
      if step == SQLITE_DONE { return rows }
      guard step == SQLITE_ROW else { throw SQLiteError(handle, code: step, sql: sql) }
      if collect {
        rows.append(SQLRow(columns: columns, values: (0..<columnCount).map { Self.value(statement, $0) }))
      }
    }
  }

  private func bind(_ value: SQLValue, at index: Int32, in statement: OpaquePointer, sql: String) throws(SQLiteError) {
    let code: Int32
    switch value {
    case .null: code = sqlite3_bind_null(statement, index)
    case .integer(let number): code = sqlite3_bind_int64(statement, index, number)
    case .real(let number): code = sqlite3_bind_double(statement, index, number)
    case .text(let text): code = sqlite3_bind_text(statement, index, text, -1, csqlite_transient())
    case .blob(let bytes):
      // An empty array has no address; zeroblob keeps it a blob, not NULL.
      code = bytes.isEmpty ? sqlite3_bind_zeroblob(statement, index, 0) : bytes.withUnsafeBytes { raw in
        sqlite3_bind_blob(statement, index, raw.baseAddress, Int32(raw.count), csqlite_transient())
      }
    }
    guard code == SQLITE_OK else { throw SQLiteError(handle, code: code, sql: sql) }
  }

  private static func value(_ statement: OpaquePointer, _ column: Int32) -> SQLValue {
    switch sqlite3_column_type(statement, column) {
    case SQLITE_INTEGER: return .integer(sqlite3_column_int64(statement, column))
    case SQLITE_FLOAT: return .real(sqlite3_column_double(statement, column))
    case SQLITE_TEXT:
      let count = Int(sqlite3_column_bytes(statement, column))
      guard let text = sqlite3_column_text(statement, column) else { return .text("") }
      return .text(String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self))
    case SQLITE_BLOB:
      let count = Int(sqlite3_column_bytes(statement, column))
      guard count > 0, let bytes = sqlite3_column_blob(statement, column) else { return .blob([]) }
      return .blob(Array(UnsafeRawBufferPointer(start: bytes, count: count)))
    default: return .null
    }
  }
}
