import Support
/// Keys set from CRI-O's command-line flags: each flag names a schema key,
/// and its text is converted, checked and stored exactly as a file's value
/// would be, so `--log-size-max 10` fails where `log_size_max = 10` fails.
extension CrioConfig {
  /// The shape of a key's value, for the command line: whether its flag
  /// takes a value and whether repeats add to a list.
  public enum FlagShape: Sendable {
    case text, number, boolean, list
  }

  /// How `[table] name` is set from a flag; nil when the schema has no such key.
  public static func flagShape(table: String, name: String) -> FlagShape? {
    guard let key = ConfigSchema.key(table: table, name: name) else { return nil }
    return shape(key.kind)
  }

  /// How a `[crio.runtime.runtimes.<name>]` key is set from a flag.
  public static func handlerFlagShape(name: String) -> FlagShape? {
    ConfigSchema.handlerKey(named: name).map { shape($0.kind) }
  }

  /// The key's one-line description (its crio.conf comment), for `--help`.
  public static func keyDoc(table: String, name: String) -> String? {
    ConfigSchema.key(table: table, name: name)?.doc
  }

  /// A `[crio.runtime.runtimes.<name>]` key's one-line description.
  public static func handlerKeyDoc(name: String) -> String? {
    ConfigSchema.handlerKey(named: name)?.doc
  }

  /// Sets `[table] name` from a flag's values: the last one for a scalar,
  /// all of them for a list (each split at commas, as CRI-O's string
  /// slices are).
  public mutating func set(table: String, name: String, fromFlag flag: String, values: [String]) throws(ConfigError) {
    guard let key = ConfigSchema.key(table: table, name: name) else {
      throw ConfigError(flag: flag, message: "names no configuration key")
    }
    try Self.assign(key, values, to: &self, flag: flag)
  }

  /// Sets a key of the default runtime handler (`default_runtime`), making
  /// the handler when no file declared it, as `--conmon` does in CRI-O.
  public mutating func setDefaultHandler(name: String, fromFlag flag: String, values: [String]) throws(ConfigError) {
    guard let key = ConfigSchema.handlerKey(named: name) else {
      throw ConfigError(flag: flag, message: "names no runtime handler key")
    }
    let handlerName = runtime.defaultRuntime
    var handler = runtime.runtimes[handlerName] ?? RuntimeHandler(name: handlerName)
    try Self.assign(key, values, to: &handler, flag: flag)
    runtime.runtimes[handlerName] = handler
  }

  /// CRI-O's `--runtimes name:path:root[:type[:privileged_without_host_devices[:runtime_config_path]]]`,
  /// each entry declaring (or replacing) one handler.
  public mutating func setHandlers(fromFlag flag: String, values: [String]) throws(ConfigError) {
    for entry in Self.listEntries(values) {
      let fields = entry.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
      guard (3...6).contains(fields.count) else {
        throw ConfigError(flag: flag, message: "wrong format \(Check.quoted(entry)): expected name:path:root[:type[:privileged_without_host_devices[:runtime_config_path]]]")
      }
      if let failure = Check.handlerName(fields[0]) { throw ConfigError(flag: flag, message: failure) }
      var handler = RuntimeHandler(name: fields[0])
      let settings = [("runtime_path", fields[1]), ("runtime_root", fields[2])]
        + (fields.count > 3 ? [("runtime_type", fields[3])] : [])
        + (fields.count > 4 ? [("privileged_without_host_devices", fields[4] == "true" ? "true" : "false")] : [])
        + (fields.count > 5 ? [("runtime_config_path", fields[5])] : [])
      for (name, text) in settings {
        guard let key = ConfigSchema.handlerKey(named: name) else { continue }
        try Self.assign(key, [text], to: &handler, flag: flag)
      }
      runtime.runtimes[fields[0]] = handler
    }
  }

  private static func shape(_ kind: ConfigKind) -> FlagShape {
    switch kind {
    case .string: .text
    case .int: .number
    case .bool: .boolean
    case .strings: .list
    }
  }

  private static func assign<Root>(_ key: ConfigKey<Root>, _ values: [String], to root: inout Root, flag: String) throws(ConfigError) {
    guard let last = values.last else { return }
    let value: ConfigValue
    switch key.kind {
    case .string:
      value = .string(last)
    case .int:
      guard let number = Int(last) else { throw ConfigError(flag: flag, message: "expected an integer, got \(Check.quoted(last))") }
      value = .int(number)
    case .bool:
      guard let flagValue = parseGoBool(last) else { throw ConfigError(flag: flag, message: "expected true or false, got \(Check.quoted(last))") }
      value = .bool(flagValue)
    case .strings:
      value = .strings(listEntries(values))
    }
    if let failure = key.check(value) { throw ConfigError(flag: flag, message: failure) }
    key.set(&root, value)
  }

  /// Every value split at commas and trimmed, empty entries dropped.
  static func listEntries(_ values: [String]) -> [String] {
    values.flatMap { $0.split(separator: ",") }.map { String($0.trimmingWhitespace()) }.filter { !$0.isEmpty }
  }

  /// Go's strconv.ParseBool, which urfave/cli's boolean flags use.
  public static func parseGoBool(_ text: String) -> Bool? {
    switch text {
    case "1", "t", "T", "TRUE", "true", "True": true
    case "0", "f", "F", "FALSE", "false", "False": false
    default: nil
    }
  }
}

extension ConfigError {
  /// A bad value given on the command line, named by its flag.
  public init(flag: String, message: String) {
    self.init(key: flag, message: message)
  }
}
