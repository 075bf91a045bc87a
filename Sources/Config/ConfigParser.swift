import Support
import TOMLKit

/// Applies one crio.conf document on top of a configuration: only the keys the document
/// sets change, which is what makes drop-in files override key by key.
struct ConfigParser {
  let file: String
  var config: CrioConfig
  var warnings: [String] = []
  /// `[table] key` of every key this document set, so cross-key errors found after
  /// merging can name the file that set the offending key.
  var assignedKeys: [String] = []

  init(file: String, base: CrioConfig) {
    self.file = file
    self.config = base
  }

  mutating func apply(toml: String) throws(ConfigError) {
    if let problem = TOMLSourceCheck.firstProblem(in: toml) {
      throw ConfigError(
        file: file, line: problem.line, column: problem.column, message: "invalid TOML: \(problem.message)")
    }
    let root: TOMLTable
    do {
      root = try TOMLTable(string: toml)
    } catch let failure as TOMLParseError {
      throw ConfigError(
        file: file, line: failure.source.begin.line, column: failure.source.begin.column,
        message: "invalid TOML: \(failure.description)")
    } catch {
      throw ConfigError(file: file, message: "invalid TOML: \(error)")
    }
    for name in root.keys {
      guard let value = root[name] else { continue }
      if name == "crio" {
        try applyTable("crio", value, parent: nil)
      } else {
        warnUnknown(parent: nil, name: name, value: value)
      }
    }
  }

  private mutating func applyTable(_ path: String, _ value: TOMLValueConvertible, parent: String?) throws(ConfigError) {
    guard let table = value.table else {
      let key = parent.map { "[\($0)] \(path.split(separator: ".").last ?? "")" } ?? path
      throw ConfigError(file: file, key: key, message: "expected a table, got \(Self.describe(value))")
    }
    for name in table.keys {
      guard let child = table[name] else { continue }
      let childPath = "\(path).\(name)"
      if let key = ConfigSchema.key(table: path, name: name) {
        try Self.assign(key, child, to: &config, table: path, file: file)
        assignedKeys.append(key.qualifiedName)
      } else if childPath == ConfigSchema.handlersTable {
        try applyHandlers(child)
      } else if childPath == ConfigSchema.workloadsTable {
        try refuseWorkloads(child)
      } else if ConfigSchema.tablePaths.contains(childPath) {
        try applyTable(childPath, child, parent: path)
      } else {
        warnUnknown(parent: path, name: name, value: child)
      }
    }
  }

  private mutating func applyHandlers(_ value: TOMLValueConvertible) throws(ConfigError) {
    guard let handlers = value.table else {
      throw ConfigError(
        file: file, key: "[crio.runtime] runtimes",
        message: "expected a table of runtime handlers, got \(Self.describe(value))")
    }
    for name in handlers.keys {
      guard let entry = handlers[name] else { continue }
      let table = ConfigSchema.handlerTable(name)
      if let failure = Check.handlerName(name) {
        throw ConfigError(file: file, key: "[\(table)]", message: failure)
      }
      guard let keys = entry.table else {
        throw ConfigError(
          file: file, key: "[\(ConfigSchema.handlersTable)] \(TOMLText.key(name))",
          message: "expected a table describing runtime handler \(Check.quoted(name)), got \(Self.describe(entry))")
      }
      var handler = config.runtime.runtimes[name] ?? RuntimeHandler(name: name)
      for keyName in keys.keys {
        guard let raw = keys[keyName] else { continue }
        if let key = ConfigSchema.handlerKey(named: keyName) {
          try Self.assign(key, raw, to: &handler, table: table, file: file)
          assignedKeys.append("[\(table)] \(keyName)")
        } else {
          warnUnknown(parent: table, name: keyName, value: raw)
        }
      }
      config.runtime.runtimes[name] = handler
    }
  }

  /// CRI-O's workloads give annotated containers other resources; accepting a workload
  /// this daemon does not apply would run those containers with the wrong ones.
  private func refuseWorkloads(_ value: TOMLValueConvertible) throws(ConfigError) {
    guard let workloads = value.table else {
      throw ConfigError(
        file: file, key: "[crio.runtime] workloads", message: "expected a table of workloads, got \(Self.describe(value))")
    }
    if let name = workloads.keys.sorted().first {
      throw ConfigError(
        file: file, key: "[\(ConfigSchema.workloadsTable).\(TOMLText.key(name))]",
        message: "workloads are not supported by this daemon (their annotations would be ignored); remove the table")
    }
  }

  /// Type-checks, validates and stores one value. Static so it can take `&config` while
  /// the parser itself is being mutated.
  private static func assign<Root>(
    _ key: ConfigKey<Root>, _ raw: TOMLValueConvertible, to root: inout Root, table: String, file: String
  ) throws(ConfigError) {
    let qualified = "[\(table)] \(key.name)"
    guard let value = convert(raw, to: key.kind) else {
      throw ConfigError(file: file, key: qualified, message: "expected \(key.kind.expectation), got \(describe(raw))")
    }
    if let failure = key.check(value) {
      throw ConfigError(file: file, key: qualified, message: failure)
    }
    key.set(&root, value)
  }

  private mutating func warnUnknown(parent: String?, name: String, value: TOMLValueConvertible) {
    let shownName = TOMLText.key(name)
    if value.type == .table {
      let path = parent.map { "\($0).\(shownName)" } ?? shownName
      warnings.append("\(file): unknown table [\(path)], ignored")
      return
    }
    let qualified = parent.map { "[\($0)] \(shownName)" } ?? shownName
    warnings.append("\(file): unknown key \(qualified), ignored")
  }

  private static func convert(_ raw: TOMLValueConvertible, to kind: ConfigKind) -> ConfigValue? {
    switch kind {
    case .string: return raw.string.map(ConfigValue.string)
    case .int: return raw.int.map(ConfigValue.int)
    case .bool: return raw.bool.map(ConfigValue.bool)
    case .strings:
      guard let array = raw.array else { return nil }
      var list: [String] = []
      for element in array {
        guard let text = element.string else { return nil }
        list.append(text)
      }
      return .strings(list)
    }
  }

  /// What a wrong-typed value is, for "expected X, got Y".
  static func describe(_ raw: TOMLValueConvertible) -> String {
    switch raw.type {
    case .string: return "string \(Check.quoted(raw.string ?? ""))"
    case .int: return "integer \(raw.int.map(String.init) ?? "")"
    case .double: return "float \(raw.double.map { String($0) } ?? "")"
    case .bool: return "boolean \(raw.bool == true)"
    case .array:
      guard let array = raw.array else { return "array" }
      if let odd = array.first(where: { $0.type != .string }) {
        return "an array containing \(describe(odd))"
      }
      return "array"
    case .table: return "table"
    case .date, .time, .dateTime: return raw.type.description
    }
  }
}
