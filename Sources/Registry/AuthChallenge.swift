/// One challenge of a `WWW-Authenticate` header (RFC 9110 section 11.6.1):
/// `Bearer realm="https://auth.example",service="registry",scope="..."`.
public struct AuthChallenge: Sendable, Equatable {
  /// Lower-cased: schemes are case-insensitive.
  public var scheme: String
  /// Parameter names lower-cased, values unquoted and unescaped.
  public var parameters: [String: String]

  public init(scheme: String, parameters: [String: String] = [:]) {
    self.scheme = scheme.lowercased()
    self.parameters = parameters
  }

  public subscript(_ name: String) -> String? { parameters[name.lowercased()] }

  /// Every challenge in one or more header values. Malformed parts end the
  /// challenge they are in rather than failing the whole header.
  public static func parse(_ headerValues: [String]) -> [AuthChallenge] {
    headerValues.flatMap { parse($0) }
  }

  public static func parse(_ header: String) -> [AuthChallenge] {
    var scanner = ChallengeScanner(Array(header.utf8))
    var challenges: [AuthChallenge] = []
    while true {
      scanner.skip { $0 == .space || $0 == .tab || $0 == .comma }
      guard let scheme = scanner.token() else {
        if scanner.atEnd { break }
        scanner.advance()  // a stray character: skip it
        continue
      }
      var challenge = AuthChallenge(scheme: scheme)
      // Parameters: name = value pairs separated by commas, until a token
      // that is not followed by "=" (the next challenge's scheme).
      while true {
        let mark = scanner.position
        scanner.skip { $0 == .space || $0 == .tab || $0 == .comma }
        guard let name = scanner.token() else { break }
        scanner.skip { $0 == .space || $0 == .tab }
        guard scanner.peek == .equals else {
          scanner.position = mark
          break
        }
        scanner.advance()
        scanner.skip { $0 == .space || $0 == .tab }
        if scanner.peek == .quote {
          challenge.parameters[name.lowercased()] = scanner.quotedString()
        } else if let value = scanner.token() {
          challenge.parameters[name.lowercased()] = value
        } else {
          // token68 ("abc==") or an empty value: keep what there is.
          challenge.parameters[name.lowercased()] = ""
          scanner.skip { $0 == .equals }
        }
      }
      challenges.append(challenge)
    }
    return challenges
  }
}

private extension UInt8 {
  static let space = UInt8(ascii: " ")
  static let tab = UInt8(ascii: "\t")
  static let comma = UInt8(ascii: ",")
  static let equals = UInt8(ascii: "=")
  static let quote = UInt8(ascii: "\"")
  static let backslash = UInt8(ascii: "\\")
}

/// A cursor over header bytes.
private struct ChallengeScanner {
  let bytes: [UInt8]
  var position = 0

  init(_ bytes: [UInt8]) { self.bytes = bytes }

  var atEnd: Bool { position >= bytes.count }
  var peek: UInt8? { atEnd ? nil : bytes[position] }

  mutating func advance() { position += 1 }

  mutating func skip(while predicate: (UInt8) -> Bool) {
    while let byte = peek, predicate(byte) { position += 1 }
  }

  /// An RFC 9110 token (tchar+), or nil if none starts here.
  mutating func token() -> String? {
    let start = position
    skip(while: Self.isTokenCharacter)
    return position > start ? String(decoding: bytes[start..<position], as: UTF8.self) : nil
  }

  /// A quoted string starting at the opening quote, with `\x` escapes
  /// resolved. An unterminated string runs to the end of the header.
  mutating func quotedString() -> String {
    advance()
    var value: [UInt8] = []
    while let byte = peek {
      advance()
      if byte == .quote { break }
      if byte == .backslash, let escaped = peek {
        advance()
        value.append(escaped)
      } else {
        value.append(byte)
      }
    }
    return String(decoding: value, as: UTF8.self)
  }

  static func isTokenCharacter(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
      return true
    default:
      return Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
    }
  }
}
