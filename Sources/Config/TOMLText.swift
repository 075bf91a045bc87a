import Support

/// Spelling values and keys as TOML source text.
enum TOMLText {
  /// A TOML basic string. Control characters are escaped because TOML forbids them raw;
  /// everything else is kept as UTF-8 so paths stay readable.
  static func quoted(_ value: String) -> String {
    Quoting.doubleQuoted(value)
  }

  /// A key as written in a table header or assignment: bare when TOML allows, else quoted.
  static func key(_ name: String) -> String {
    let bare = !name.isEmpty && name.unicodeScalars.allSatisfy { scalar in
      scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "_" || scalar == "-")
    }
    return bare ? name : quoted(name)
  }

  static func value(_ value: ConfigValue) -> String {
    switch value {
    case .string(let text): quoted(text)
    case .int(let number): String(number)
    case .bool(let flag): flag ? "true" : "false"
    case .strings(let list):
      // One entry per line keeps diffs of long lists readable, as CRI-O prints them.
      list.isEmpty ? "[]" : "[\n" + list.map { "\t\(quoted($0)),\n" }.joined() + "]"
    }
  }
}
