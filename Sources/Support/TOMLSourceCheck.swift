/// Finds what toml++ (through TOMLKit) must not be shown, before it sees a
/// document; crio.conf and registries.conf both go through it.
///
/// - NUL characters: TOMLKit hands the document and every parsed string over
///   as C strings, so a NUL would silently cut the file or a value short (and
///   a NUL in a key would crash TOMLKit's table iterator).
/// - What toml++ asserts cannot happen, aborting the process: a table header
///   whose name starts with anything but a bare-key character or a quote
///   (`[é]`, `[[[a]]]`, `[` at the end of a line); in an array, a `}` or a
///   Unicode line separator (U+0085, U+2028, U+2029) where a value belongs
///   (those separators are never TOML outside strings and comments); a
///   date-time whose `T` is not followed by a digit (`1979-05-27Tx`).
public enum TOMLSourceCheck {
  public struct Problem: Equatable, Sendable {
    /// 1-based, counted in Unicode scalars.
    public let line: Int
    public let column: Int
    public let message: String
  }

  private enum State { case normal, comment, basic, multilineBasic, literal, multilineLiteral }

  public static func firstProblem(in text: String) -> Problem? {
    let scalars = Array(text.unicodeScalars)
    var state = State.normal
    var line = 1
    var lineStart = 0
    var index = 0
    // Where a statement (key = value, or a [table] header) may begin.
    var atStatementStart = true
    // Inside a value: the brackets and braces opened and not yet closed.
    var inValue = false
    var open: [Unicode.Scalar] = []
    // The last scalar outside strings and comments that is not a space.
    var previous: Unicode.Scalar = "\n"

    func starts(_ pattern: String, at position: Int) -> Bool {
      let wanted = Array(pattern.unicodeScalars)
      return position + wanted.count <= scalars.count && Array(scalars[position..<position + wanted.count]) == wanted
    }
    func problem(at position: Int, _ message: String) -> Problem {
      Problem(line: line, column: position - lineStart + 1, message: message)
    }
    func isSpace(_ scalar: Unicode.Scalar) -> Bool { scalar == " " || scalar == "\t" }
    /// The problem with the table header whose `[` is at `position`, if any.
    func headerProblem(at position: Int) -> Problem? {
      var next = position + 1
      var skipped = false
      while next < scalars.count, isSpace(scalars[next]) {
        next += 1
        skipped = true
      }
      if next < scalars.count, scalars[next] == "[", !skipped {
        next += 1  // [[array of tables]]
        while next < scalars.count, isSpace(scalars[next]) { next += 1 }
      }
      guard next < scalars.count else { return nil }
      let first = scalars[next]
      let startsKey =
        first.isASCII
        && (("a"..."z").contains(first) || ("A"..."Z").contains(first) || ("0"..."9").contains(first)
          || "_-\"']".unicodeScalars.contains(first))
      if startsKey || (first == "[" && skipped) { return nil }
      return problem(at: next, "a table name must start with a letter, a digit, '_', '-' or a quote")
    }

    /// A value starting at `position` that toml++ takes for a date-time and
    /// then asserts has a digit after its `T`.
    func dateTimeProblem(at position: Int) -> Problem? {
      let shape = Array("dddd-dd-ddT".unicodeScalars)
      guard position + shape.count < scalars.count else { return nil }
      for (offset, wanted) in shape.enumerated() {
        let found = scalars[position + offset]
        switch wanted {
        case "d": guard ("0"..."9").contains(found) else { return nil }
        case "T": guard found == "T" || found == "t" else { return nil }
        default: guard found == wanted else { return nil }
        }
      }
      let after = scalars[position + shape.count]
      return ("0"..."9").contains(after) ? nil : problem(at: position + shape.count, "a time must follow the 'T' of a date")
    }

    while index < scalars.count {
      let scalar = scalars[index]
      if scalar == "\0" { return problem(at: index, "NUL characters are not allowed") }
      if scalar == "\n" {
        line += 1
        lineStart = index + 1
        if state == .comment || state == .basic || state == .literal { state = .normal }
        if state == .normal, open.isEmpty {
          inValue = false
          atStatementStart = true
        }
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
        } else if atStatementStart, scalar == "[" {
          if let found = headerProblem(at: index) { return found }
        } else if scalar == "=", !inValue {
          inValue = true
        } else if inValue, scalar == "[" || scalar == "{" {
          open.append(scalar)
        } else if inValue, scalar == "]" || scalar == "}" {
          if scalar == "}", open.last == "[" { return problem(at: index, "'}' in an array") }
          _ = open.popLast()
        } else if scalar == "\u{85}" || scalar == "\u{2028}" || scalar == "\u{2029}" {
          return problem(at: index, "line breaks other than LF and CRLF are not allowed")
        } else if inValue, previous == "=" || (open.last == "[" && (previous == "[" || previous == ",")),
          let found = dateTimeProblem(at: index)
        {
          return found
        }
        if !isSpace(scalar) { previous = scalar }
        if !isSpace(scalar) { atStatementStart = false }
      case .comment:
        break
      case .basic, .multilineBasic:
        if scalar == "\\" {
          if starts("\\u0000", at: index) || starts("\\U00000000", at: index) {
            return problem(at: index, "NUL characters are not allowed")
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
