import CSQLite

/// What SQLite said, with the statement it said it about.
public struct SQLiteError: Error, Sendable, CustomStringConvertible {
  /// SQLite's extended result code (`SQLITE_CONSTRAINT_UNIQUE`, ...).
  public let code: Int32
  public let message: String
  public let sql: String?

  init(code: Int32, message: String, sql: String? = nil) {
    self.code = code
    self.message = message
    self.sql = sql
  }

  /// The error the connection holds after a failed call.
  init(_ handle: OpaquePointer?, code: Int32, sql: String? = nil) {
    let message = handle.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(code))
    self.init(code: code, message: message, sql: sql)
  }

  /// A column that is missing or holds another type than the caller reads.
  static func column(_ name: String, holds value: SQLValue, wanted: String) -> SQLiteError {
    SQLiteError(code: SQLITE_MISMATCH, message: "column \(name) holds \(value), not \(wanted)")
  }

  public var description: String {
    let primary = code & 0xff
    let base = "SQLite error \(primary): \(message)"
    return sql.map { "\(base) - while executing `\($0)`" } ?? base
  }
}
