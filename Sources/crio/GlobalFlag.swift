import Config

/// One of CRI-O's global flags (urfave/cli: accepted before or after the
/// subcommand) and what it sets.
struct GlobalFlag: Sendable {
  enum Target: Sendable {
    /// `--config`, `--config-dir`: where the files are, not a key.
    case configFile, configDir
    /// A key of the schema, converted and checked as a file's value is.
    case key(table: String, name: String)
    /// A key of the default runtime handler (`--conmon` and friends).
    case defaultHandler(name: String)
    /// `--runtimes name:path:root[:…]`.
    case handlers
    /// A CRI-O flag for something this daemon does not have: refused,
    /// never silently ignored.
    case refused(String)
  }

  let name: String
  let short: Character?
  let target: Target
  /// nil: the key's own description from the schema.
  let help: String?

  init(_ name: String, short: Character? = nil, _ target: Target, help: String? = nil) {
    self.name = name
    self.short = short
    self.target = target
    self.help = help
  }

  var shape: CrioConfig.FlagShape {
    switch target {
    case .configFile, .configDir, .handlers: .text
    case .key(let table, let key): CrioConfig.flagShape(table: table, name: key) ?? .text
    case .defaultHandler(let key): CrioConfig.handlerFlagShape(name: key) ?? .text
    // A refused flag is reported whatever follows it; taking a value keeps
    // that value from being read as a subcommand.
    case .refused: .text
    }
  }

  /// Booleans stand alone (`--selinux`, `--selinux=false`); the rest take the next argument.
  var takesValue: Bool { shape != .boolean }

  var spelling: String { "--" + name }

  /// The line `--help` and crio(8) show.
  var helpLine: String {
    var text: String
    switch target {
    case .key(let table, let key):
      text = (help ?? CrioConfig.keyDoc(table: table, name: key) ?? "") + " ([\(table)] \(key))"
    case .defaultHandler(let key):
      text = (help ?? CrioConfig.handlerKeyDoc(name: key) ?? "") + " (\(key) of the default runtime handler)"
    case .configFile, .configDir, .handlers:
      text = help ?? ""
    case .refused(let reason):
      text = "Refused: " + reason + "."
    }
    if shape == .list { text += " Repeatable or comma-separated." }
    return text
  }
}

extension GlobalFlag {
  static func named(_ name: String) -> GlobalFlag? { all.first { $0.name == name } }
  static func short(_ letter: Character) -> GlobalFlag? { all.first { $0.short == letter } }

  /// Every flag, for `--help` and crio(8): names first, then what each sets.
  static var helpText: String {
    // One paragraph per flag: ArgumentParser wraps a discussion without
    // keeping indentation, so a flag and its text share the paragraph.
    var paragraphs = ["GLOBAL OPTIONS, before or after the command; each overrides its crio.conf key:"]
    for flag in all {
      var names = flag.spelling
      if let short = flag.short { names = "-\(short), " + names }
      if flag.takesValue { names += " <value>" }
      paragraphs.append(names + ": " + flag.helpLine)
    }
    return paragraphs.joined(separator: "\n\n")
  }
}
