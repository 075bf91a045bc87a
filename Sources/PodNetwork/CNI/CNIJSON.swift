import Support

/// A strict JSON reader (RFC 8259) producing Support's `JSONValue`, so CNI
/// configs and results can be read, amended and written back without
/// Foundation. Object keys keep their order; numbers that are not plain
/// integers stay as their literal text (`.raw`), so a config's extra keys
/// pass through to plugins byte for byte in value.
///
/// Candidate for Support (`JSONValue.parse`): nothing here is CNI-specific.
enum CNIJSON {
  struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
    let offset: Int
    let reason: String
    var description: String { "invalid JSON at byte \(offset): \(reason)" }
  }

  static func parse(_ text: String) throws(ParseError) -> JSONValue {
    try parse(Array(text.utf8))
  }

  static func parse(_ bytes: [UInt8]) throws(ParseError) -> JSONValue {
    var parser = Parser(bytes: bytes)
    parser.skipSpace()
    let value = try parser.value(depth: 0)
    parser.skipSpace()
    guard parser.index == bytes.count else { throw parser.error("unexpected text after the value") }
    return value
  }

  private struct Parser {
    let bytes: [UInt8]
    var index = 0

    func error(_ reason: String) -> ParseError { ParseError(offset: index, reason: reason) }

    mutating func skipSpace() {
      while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
    }

    mutating func expect(_ literal: String) throws(ParseError) {
      for byte in literal.utf8 {
        guard index < bytes.count, bytes[index] == byte else { throw error("expected \(literal)") }
        index += 1
      }
    }

    mutating func value(depth: Int) throws(ParseError) -> JSONValue {
      guard depth < 512 else { throw error("nested too deeply") }
      guard index < bytes.count else { throw error("unexpected end of input") }
      switch bytes[index] {
      case UInt8(ascii: "{"):
        index += 1
        var members: [(String, JSONValue)] = []
        skipSpace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
          index += 1
          return .object(members)
        }
        while true {
          skipSpace()
          guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a string key") }
          let key = try string()
          skipSpace()
          try expect(":")
          skipSpace()
          let member = try value(depth: depth + 1)
          // Duplicate keys: the last one wins, as in Go's encoding/json.
          if let existing = members.firstIndex(where: { $0.0 == key }) {
            members[existing].1 = member
          } else {
            members.append((key, member))
          }
          skipSpace()
          guard index < bytes.count else { throw error("unterminated object") }
          if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
          if bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
          throw error("expected , or } in an object")
        }
      case UInt8(ascii: "["):
        index += 1
        var elements: [JSONValue] = []
        skipSpace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
          index += 1
          return .array(elements)
        }
        while true {
          skipSpace()
          elements.append(try value(depth: depth + 1))
          skipSpace()
          guard index < bytes.count else { throw error("unterminated array") }
          if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
          if bytes[index] == UInt8(ascii: "]") { index += 1; return .array(elements) }
          throw error("expected , or ] in an array")
        }
      case UInt8(ascii: "\""):
        return .string(try string())
      case UInt8(ascii: "t"):
        try expect("true")
        return .bool(true)
      case UInt8(ascii: "f"):
        try expect("false")
        return .bool(false)
      case UInt8(ascii: "n"):
        try expect("null")
        return .null
      default:
        return try number()
      }
    }

    mutating func number() throws(ParseError) -> JSONValue {
      let start = index
      func digits(_ parser: inout Parser) -> Int {
        let from = parser.index
        while parser.index < parser.bytes.count, (0x30...0x39).contains(parser.bytes[parser.index]) { parser.index += 1 }
        return parser.index - from
      }
      if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
      let intStart = index
      guard digits(&self) > 0 else { throw error("expected a value") }
      if bytes[intStart] == UInt8(ascii: "0"), index - intStart > 1 { throw error("leading zero in a number") }
      var integral = true
      if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
        index += 1
        integral = false
        guard digits(&self) > 0 else { throw error("expected digits after .") }
      }
      if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
        index += 1
        integral = false
        if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard digits(&self) > 0 else { throw error("expected digits in an exponent") }
      }
      let text = String(decoding: bytes[start..<index], as: UTF8.self)
      if integral, let int = Int(text) { return .int(int) }
      return .raw(text)
    }

    mutating func hex4() throws(ParseError) -> UInt32 {
      guard index + 4 <= bytes.count else { throw error("short \\u escape") }
      var value: UInt32 = 0
      for byte in bytes[index..<index + 4] {
        let digit: UInt8
        switch byte {
        case 0x30...0x39: digit = byte - 0x30
        case 0x41...0x46: digit = byte - 0x41 + 10
        case 0x61...0x66: digit = byte - 0x61 + 10
        default: throw error("bad hex digit in \\u escape")
        }
        value = value << 4 | UInt32(digit)
      }
      index += 4
      return value
    }

    mutating func string() throws(ParseError) -> String {
      index += 1  // opening quote
      var out: [UInt8] = []
      while true {
        guard index < bytes.count else { throw error("unterminated string") }
        let byte = bytes[index]
        index += 1
        switch byte {
        case UInt8(ascii: "\""):
          // Invalid UTF-8 is replaced, as Go does.
          return String(decoding: out, as: UTF8.self)
        case UInt8(ascii: "\\"):
          guard index < bytes.count else { throw error("unterminated escape") }
          let escape = bytes[index]
          index += 1
          switch escape {
          case UInt8(ascii: "\""): out.append(0x22)
          case UInt8(ascii: "\\"): out.append(0x5C)
          case UInt8(ascii: "/"): out.append(0x2F)
          case UInt8(ascii: "b"): out.append(0x08)
          case UInt8(ascii: "f"): out.append(0x0C)
          case UInt8(ascii: "n"): out.append(0x0A)
          case UInt8(ascii: "r"): out.append(0x0D)
          case UInt8(ascii: "t"): out.append(0x09)
          case UInt8(ascii: "u"):
            var scalar = try hex4()
            if (0xD800...0xDBFF).contains(scalar), index + 6 <= bytes.count,
              bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
            {
              let save = index
              index += 2
              let low = try hex4()
              if (0xDC00...0xDFFF).contains(low) {
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
              } else {
                index = save
              }
            }
            let unicode = Unicode.Scalar(scalar) ?? "\u{FFFD}"
            out += Array(String(Character(unicode)).utf8)
          default:
            throw error("bad escape \\\(Character(Unicode.Scalar(escape)))")
          }
        case 0x00..<0x20:
          throw error("control character in a string")
        default:
          out.append(byte)
        }
      }
    }
  }
}

/// Reading parsed values. Internal and prefixed so they cannot clash with
/// accessors Support may add to `JSONValue` later.
extension JSONValue {
  func cniMember(_ key: String) -> JSONValue? {
    guard case .object(let members) = self else { return nil }
    return members.first(where: { $0.0 == key })?.1
  }

  var cniString: String? {
    if case .string(let value) = self { return value }
    return nil
  }

  var cniInt: Int? {
    if case .int(let value) = self { return value }
    return nil
  }

  var cniBool: Bool? {
    if case .bool(let value) = self { return value }
    return nil
  }

  var cniArray: [JSONValue]? {
    if case .array(let value) = self { return value }
    return nil
  }

  var cniObject: [(String, JSONValue)]? {
    if case .object(let value) = self { return value }
    return nil
  }

  /// A copy of an object with `key` set (replacing its value in place, or
  /// appended); other values are returned unchanged.
  func cniSetting(_ key: String, _ value: JSONValue) -> JSONValue {
    guard case .object(var members) = self else { return self }
    if let existing = members.firstIndex(where: { $0.0 == key }) {
      members[existing].1 = value
    } else {
      members.append((key, value))
    }
    return .object(members)
  }

  func cniRemoving(_ key: String) -> JSONValue {
    guard case .object(let members) = self else { return self }
    return .object(members.filter { $0.0 != key })
  }
}

/// Standard base64 (RFC 4648, with padding), as Go's encoding/json writes []byte.
enum Base64 {
  private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

  static func encode(_ bytes: [UInt8]) -> String {
    var out: [UInt8] = []
    out.reserveCapacity((bytes.count + 2) / 3 * 4)
    var index = 0
    while index < bytes.count {
      let b0 = UInt32(bytes[index])
      let b1 = index + 1 < bytes.count ? UInt32(bytes[index + 1]) : 0
      let b2 = index + 2 < bytes.count ? UInt32(bytes[index + 2]) : 0
      let triple = b0 << 16 | b1 << 8 | b2
      out.append(alphabet[Int(triple >> 18 & 63)])
      out.append(alphabet[Int(triple >> 12 & 63)])
      out.append(index + 1 < bytes.count ? alphabet[Int(triple >> 6 & 63)] : UInt8(ascii: "="))
      out.append(index + 2 < bytes.count ? alphabet[Int(triple & 63)] : UInt8(ascii: "="))
      index += 3
    }
    return String(decoding: out, as: UTF8.self)
  }

  static func decode(_ text: String) -> [UInt8]? {
    var values: [UInt32] = []
    for byte in text.utf8 {
      switch byte {
      case UInt8(ascii: "A")...UInt8(ascii: "Z"): values.append(UInt32(byte - UInt8(ascii: "A")))
      case UInt8(ascii: "a")...UInt8(ascii: "z"): values.append(UInt32(byte - UInt8(ascii: "a") + 26))
      case UInt8(ascii: "0")...UInt8(ascii: "9"): values.append(UInt32(byte - UInt8(ascii: "0") + 52))
      case UInt8(ascii: "+"): values.append(62)
      case UInt8(ascii: "/"): values.append(63)
      case UInt8(ascii: "="), 0x0A, 0x0D: continue
      default: return nil
      }
    }
    guard values.count % 4 != 1 else { return nil }
    var out: [UInt8] = []
    var index = 0
    while index < values.count {
      let chunk = values[index..<min(index + 4, values.count)]
      var triple: UInt32 = 0
      for (offset, value) in chunk.enumerated() { triple |= value << (18 - 6 * UInt32(offset)) }
      out.append(UInt8(triple >> 16 & 0xFF))
      if chunk.count > 2 { out.append(UInt8(triple >> 8 & 0xFF)) }
      if chunk.count > 3 { out.append(UInt8(triple & 0xFF)) }
      index += 4
    }
    return out
  }
}
