/// Why a configuration was rejected: where (file, line/column or table.key) and what was
/// expected. `description` is the one line shown to the operator, never a stack trace.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The file that holds the bad value; nil for values set on the command line.
  public var file: String?
  /// `[table] key`, e.g. `[crio.runtime] cgroup_manager`; nil when the whole file is at fault.
  public var key: String?
  /// Position of a TOML syntax error (1-based), nil otherwise.
  public var line: Int?
  public var column: Int?
  /// What was expected and what was found.
  public var message: String

  public init(file: String? = nil, key: String? = nil, line: Int? = nil, column: Int? = nil, message: String) {
    self.file = file
    self.key = key
    self.line = line
    self.column = column
    self.message = message
  }

  /// `file:line:column: [table] key: message`, leaving out the parts that are unknown.
  public var description: String {
    var location = file ?? ""
    if let line {
      location += location.isEmpty ? "line \(line)" : ":\(line)"
      if let column { location += ":\(column)" }
    }
    let text = [location, key ?? "", message].filter { !$0.isEmpty }.joined(separator: ": ")
    // Log lines must stay single lines even when a parser's message spans several.
    return String(text.map { $0.isNewline ? " " : $0 })
  }
}
