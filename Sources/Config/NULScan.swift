/// Finds NUL characters in TOML source before toml++ sees it. TOMLKit hands the document and
/// every parsed string over as C strings, so a NUL would silently cut the file or a value
/// short (and a NUL in a key would crash TOMLKit's table iterator).
enum NULScan {
  private enum State { case normal, comment, basic, multilineBasic, literal, multilineLiteral }

  /// The 1-based line and column of the first raw NUL or `\u0000`/`\U00000000` escape.
  static func firstNUL(in text: String) -> (line: Int, column: Int)? {
    let scalars = Array(text.unicodeScalars)
    var state = State.normal
    var line = 1
    var lineStart = 0
    var index = 0

    func starts(_ pattern: String, at position: Int) -> Bool {
      let wanted = Array(pattern.unicodeScalars)
      return position + wanted.count <= scalars.count && Array(scalars[position..<position + wanted.count]) == wanted
    }

    while index < scalars.count {
      let scalar = scalars[index]
      if scalar == "\0" { return (line, index - lineStart + 1) }
      if scalar == "\n" {
        line += 1
        lineStart = index + 1
        if state == .comment || state == .basic || state == .literal { state = .normal }
        index += 1
        continue
      }
      switch state {
      case .normal:
        if scalar == "#" {
          state = .comment
        } else if starts("\"\"\"", at: index) {
          state = .multilineBasic
          index += 2
        } else if scalar == "\"" {
          state = .basic
        } else if starts("'''", at: index) {
          state = .multilineLiteral
          index += 2
        } else if scalar == "'" {
          state = .literal
        }
      case .comment:
        break
      case .basic, .multilineBasic:
        if scalar == "\\" {
          if starts("\\u0000", at: index) || starts("\\U00000000", at: index) {
            return (line, index - lineStart + 1)
          }
          // Skip the escaped character so `\"` and `\\` do not end the string or start an escape.
          // A backslash before a line break is left for the newline handling above.
          if index + 1 < scalars.count, scalars[index + 1] != "\n" { index += 1 }
        } else if state == .basic, scalar == "\"" {
          state = .normal
        } else if state == .multilineBasic, starts("\"\"\"", at: index) {
          state = .normal
          index += 2
        }
      case .literal:
        if scalar == "'" { state = .normal }
      case .multilineLiteral:
        if starts("'''", at: index) {
          state = .normal
          index += 2
        }
      }
      index += 1
    }
    return nil
  }
}
