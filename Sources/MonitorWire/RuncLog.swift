/// What runc says when it fails, read from its `--log` file: both the
/// daemon (for runc it runs itself) and the pod monitor report it.
public enum RuncLog {
  /// The messages of runc's `level=error msg="…"` lines, else the whole log.
  public static func errors(_ log: String) -> String {
    var messages: [String] = []
    for line in log.split(separator: "\n") where line.contains("level=error") {
      guard let start = line.firstRange(of: "msg=\"") else { continue }
      var message = ""
      var escaped = false
      for character in line[start.upperBound...] {
        if escaped {
          message.append(character)
          escaped = false
        } else if character == "\\" {
          escaped = true
        } else if character == "\"" {
          break
        } else {
          message.append(character)
        }
      }
      messages.append(message)
    }
    return messages.isEmpty ? trimmed(log) : messages.joined(separator: "; ")
  }

  /// Without surrounding whitespace and newlines.
  public static func trimmed(_ text: String) -> String {
    let scalars = text.unicodeScalars
    let isSpace: (Unicode.Scalar) -> Bool = { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }
    guard let first = scalars.firstIndex(where: { !isSpace($0) }), let last = scalars.lastIndex(where: { !isSpace($0) }) else {
      return ""
    }
    return String(scalars[first...last])
  }
}
