/// One SQLite value, as stored: SQLite's five storage classes.
public enum SQLValue: Sendable, Hashable, CustomStringConvertible {
  case null
  case integer(Int64)
  case real(Double)
  case text(String)
  case blob([UInt8])

  public var description: String {
    switch self {
    case .null: "NULL"
    case .integer(let value): "integer \(value)"
    case .real(let value): "real \(value)"
    case .text(let value): "text \"\(value)\""
    case .blob(let value): "a blob of \(value.count) bytes"
    }
  }
}

/// A Swift value a statement's `?` can take.
public protocol SQLBindable {
  var sqlValue: SQLValue { get }
}

extension SQLValue: SQLBindable {
  public var sqlValue: SQLValue { self }
}

extension String: SQLBindable {
  public var sqlValue: SQLValue { .text(self) }
}

extension Int: SQLBindable {
  public var sqlValue: SQLValue { .integer(Int64(self)) }
}

extension Int64: SQLBindable {
  public var sqlValue: SQLValue { .integer(self) }
}

extension Double: SQLBindable {
  public var sqlValue: SQLValue { .real(self) }
}

extension Array: SQLBindable where Element == UInt8 {
  public var sqlValue: SQLValue { .blob(self) }
}

extension Optional: SQLBindable where Wrapped: SQLBindable {
  public var sqlValue: SQLValue { map(\.sqlValue) ?? .null }
}

/// One result row, its values by column name.
public struct SQLRow: Sendable {
  let columns: [String]
  let values: [SQLValue]

  /// The column's value; `.null` for a column the row does not have.
  public subscript(_ column: String) -> SQLValue {
    columns.firstIndex(of: column).map { values[$0] } ?? .null
  }

  public func text(_ column: String) throws(SQLiteError) -> String {
    guard case .text(let value) = self[column] else { throw .column(column, holds: self[column], wanted: "text") }
    return value
  }

  /// Text, or nil for NULL.
  public func optionalText(_ column: String) throws(SQLiteError) -> String? {
    if case .null = self[column] { return nil }
    return try text(column)
  }

  public func integer(_ column: String) throws(SQLiteError) -> Int64 {
    guard case .integer(let value) = self[column] else { throw .column(column, holds: self[column], wanted: "an integer") }
    return value
  }

  /// A real; an integer is read as one too (SQLite stores a REAL column's
  /// whole numbers as integers when the column has no REAL affinity).
  public func real(_ column: String) throws(SQLiteError) -> Double {
    switch self[column] {
    case .real(let value): return value
    case .integer(let value): return Double(value)
    case let other: throw .column(column, holds: other, wanted: "a real")
    }
  }

  /// A blob; text is read as its UTF-8 bytes (SQLite may hand either).
  public func blob(_ column: String) throws(SQLiteError) -> [UInt8] {
    switch self[column] {
    case .blob(let value): return value
    case .text(let value): return Array(value.utf8)
    case let other: throw .column(column, holds: other, wanted: "a blob")
    }
  }
}
