/// A small JSON value for the daemon's own outputs (Status verbose info, the
/// inspection API, `crio version --json`). Keys keep their insertion order so outputs are stable and
/// diffable; Foundation's encoder is avoided to keep the daemon small.
public enum JSONValue: Sendable, Equatable {
  case string(String)
  case int(Int)
  case bool(Bool)
  case null
  case array([JSONValue])
  case object([(String, JSONValue)])
  /// JSON text rendered elsewhere (e.g. an image config as pulled), inserted as is.
  case raw(String)

  public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
    lhs.rendered() == rhs.rendered()
  }

  public func rendered() -> String {
    var out = ""
    render(into: &out)
    return out
  }

  private func render(into out: inout String) {
    switch self {
    case .string(let value): Quoting.appendDoubleQuoted(value, to: &out)
    case .int(let value): out += String(value)
    case .bool(let value): out += value ? "true" : "false"
    case .null: out += "null"
    case .raw(let text): out += text
    case .array(let values):
      out += "["
      for (index, value) in values.enumerated() {
        if index > 0 { out += "," }
        value.render(into: &out)
      }
      out += "]"
    case .object(let members):
      out += "{"
      for (index, (key, value)) in members.enumerated() {
        if index > 0 { out += "," }
        Quoting.appendDoubleQuoted(key, to: &out)
        out += ":"
        value.render(into: &out)
      }
      out += "}"
    }
  }
}
