/// Double-quoted strings that are valid both as JSON and as TOML basic
/// strings: `"` and `\` escaped, and every control character (and DEL, which
/// TOML forbids raw) written as an escape, so one value is always one line.
public enum Quoting {
  public static func doubleQuoted(_ value: String) -> String {
    var out = ""
    appendDoubleQuoted(value, to: &out)
    return out
  }

  public static func appendDoubleQuoted(_ value: String, to out: inout String) {
    out += "\""
    for scalar in value.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\t": out += "\\t"
      case "\r": out += "\\r"
      case "\u{08}": out += "\\b"
      case "\u{0C}": out += "\\f"
      case "\u{00}"..."\u{1F}", "\u{7F}":
        let hex = String(scalar.value, radix: 16, uppercase: true)
        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
      default: out.unicodeScalars.append(scalar)
      }
    }
    out += "\""
  }
}

extension StringProtocol {
  /// Without leading and trailing whitespace (spaces, tabs, line breaks).
  public func trimmingWhitespace() -> SubSequence {
    guard let start = firstIndex(where: { !$0.isWhitespace }), let end = lastIndex(where: { !$0.isWhitespace }) else {
      return self[endIndex...]
    }
    return self[start...end]
  }
}
