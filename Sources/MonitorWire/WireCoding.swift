/// The byte-level encoding of the pod monitor's messages, shared by the
/// daemon and `crio-monitor` so both read one definition. Deliberately
/// plain (big-endian integers, length-prefixed strings and byte arrays):
/// the monitor links no Foundation, and every length is checked against
/// what is left before anything is allocated, so a hostile or broken peer
/// gets an error, never a crash or a huge allocation.
public enum WireError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The message ended before a field did.
  case truncated
  /// A frame or field is larger than the protocol allows.
  case oversized(length: Int, limit: Int)
  /// The peer speaks a version this side does not.
  case unsupportedVersion(UInt8)
  /// A message kind or enumeration value this side does not know.
  case unknownKind(UInt8)
  /// A string that is not UTF-8.
  case invalidText
  /// Bytes left over after the message.
  case trailingBytes(Int)
  /// A value outside its field's range (an empty ID, a negative length).
  case invalidValue(String)

  public var description: String {
    switch self {
    case .truncated: "message truncated"
    case .oversized(let length, let limit): "message of \(length) bytes exceeds the limit of \(limit)"
    case .unsupportedVersion(let version): "unsupported protocol version \(version) (this side speaks \(MonitorProtocol.version))"
    case .unknownKind(let kind): "unknown message kind \(kind)"
    case .invalidText: "a string is not valid UTF-8"
    case .trailingBytes(let count): "\(count) unexpected bytes after the message"
    case .invalidValue(let what): "invalid value: \(what)"
    }
  }
}

/// Appends fields to a message body.
public struct WireWriter: Sendable {
  public private(set) var bytes: [UInt8] = []

  public init() {}

  public mutating func u8(_ value: UInt8) { bytes.append(value) }
  public mutating func bool(_ value: Bool) { bytes.append(value ? 1 : 0) }

  public mutating func u32(_ value: UInt32) {
    bytes += [UInt8(truncatingIfNeeded: value >> 24), UInt8(truncatingIfNeeded: value >> 16),
              UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
  }

  public mutating func i32(_ value: Int32) { u32(UInt32(bitPattern: value)) }

  public mutating func i64(_ value: Int64) {
    let bits = UInt64(bitPattern: value)
    u32(UInt32(truncatingIfNeeded: bits >> 32))
    u32(UInt32(truncatingIfNeeded: bits))
  }

  public mutating func data(_ value: [UInt8]) {
    u32(UInt32(value.count))
    bytes += value
  }

  public mutating func string(_ value: String) { data(Array(value.utf8)) }

  public mutating func strings(_ values: [String]) {
    u32(UInt32(values.count))
    for value in values { string(value) }
  }
}

/// Reads fields from a message body, each bounded by what is left.
public struct WireReader: Sendable {
  private let bytes: [UInt8]
  private var offset = 0

  public init(_ bytes: [UInt8]) { self.bytes = bytes }

  public var remaining: Int { bytes.count - offset }

  private mutating func take(_ count: Int) throws(WireError) -> ArraySlice<UInt8> {
    guard count >= 0, count <= remaining else { throw .truncated }
    defer { offset += count }
    return bytes[offset..<offset + count]
  }

  public mutating func u8() throws(WireError) -> UInt8 { try take(1).first! }

  public mutating func bool() throws(WireError) -> Bool {
    switch try u8() {
    case 0: false
    case 1: true
    case let other: throw .invalidValue("boolean \(other)")
    }
  }

  public mutating func u32() throws(WireError) -> UInt32 {
    try take(4).reduce(0) { $0 << 8 | UInt32($1) }
  }

  public mutating func i32() throws(WireError) -> Int32 { Int32(bitPattern: try u32()) }

  public mutating func i64() throws(WireError) -> Int64 {
    let high = UInt64(try u32()), low = UInt64(try u32())
    return Int64(bitPattern: high << 32 | low)
  }

  public mutating func data() throws(WireError) -> [UInt8] {
    let count = Int(try u32())
    guard count <= remaining else { throw .truncated }
    return Array(try take(count))
  }

  public mutating func string() throws(WireError) -> String {
    let raw = try data()
    guard let text = String(validating: raw, as: UTF8.self) else { throw .invalidText }
    return text
  }

  /// A list of strings; each needs at least its 4-byte length, so a count
  /// larger than the rest of the message can hold is refused up front.
  public mutating func strings() throws(WireError) -> [String] {
    let count = Int(try u32())
    guard count <= remaining / 4 else { throw .truncated }
    var values: [String] = []
    values.reserveCapacity(count)
    for _ in 0..<count { values.append(try string()) }
    return values
  }

  /// Ends reading: nothing may be left.
  public func finish() throws(WireError) {
    guard remaining == 0 else { throw .trailingBytes(remaining) }
  }
}
