import Support

/// One plugin of a network configuration list, as in the file: `raw` keeps
/// every key, so plugin-specific settings reach the plugin unmodified.
public struct CNIPluginConfig: Sendable, Equatable {
  /// The plugin binary's name.
  public let type: String
  /// The capabilities the plugin declares true in `capabilities`
  /// (portMappings, bandwidth, ipRanges, ...), which select the runtime
  /// configuration it is given.
  public let capabilities: [String]
  /// The plugin's configuration object as written.
  public let raw: JSONValue

  init(raw: JSONValue, position: Int) throws(CNIConfigProblem) {
    guard raw.cniObject != nil else { throw CNIConfigProblem("plugin \(position) is not a JSON object") }
    guard let type = raw.cniMember("type")?.cniString, !type.isEmpty else {
      throw CNIConfigProblem("plugin \(position) has no \"type\"")
    }
    guard CNIValidation.isPluginName(type) else {
      throw CNIConfigProblem("plugin \(position) has an invalid type \(Quoting.doubleQuoted(type)) (a file name is expected)")
    }
    self.type = type
    self.capabilities = (raw.cniMember("capabilities")?.cniObject ?? []).compactMap { $0.1.cniBool == true ? $0.0 : nil }
    self.raw = raw
  }
}

/// A network configuration list (SPEC.md "Network configuration lists"):
/// a `.conflist` as read, or a single-plugin `.conf`/`.json` wrapped into one
/// as libcni does.
public struct CNINetworkConfig: Sendable, Equatable {
  public let name: String
  public let cniVersion: String
  /// `disableCheck` of the list: CHECK is skipped (succeeds) when true.
  public let disableCheck: Bool
  public let plugins: [CNIPluginConfig]
  /// The file it came from, nil when built from text.
  public let file: String?
  /// The list's JSON text (for a wrapped `.conf`, the list libcni would
  /// build), stored in the result cache so DEL uses what ADD used.
  public let bytes: String

  /// Parses a configuration list (`.conflist`).
  public init(listJSON text: String, file: String? = nil) throws(CNIError) {
    do {
      try self.init(list: text, file: file)
    } catch {
      throw CNIError.invalidConfig(file: file ?? "(text)", reason: error.reason)
    }
  }

  /// Parses a single plugin configuration (`.conf`, `.json`) and wraps it into a list.
  public init(pluginJSON text: String, file: String? = nil) throws(CNIError) {
    do {
      try self.init(single: text, file: file)
    } catch {
      throw CNIError.invalidConfig(file: file ?? "(text)", reason: error.reason)
    }
  }

  /// Parses a file's contents by its extension: `.conflist` as a list,
  /// `.conf` and `.json` as a single plugin. A list in a `.conf` file is
  /// skipped as ocicni skips it ("no 'type'; perhaps this is a .conflist?").
  public init(fileContents text: String, file: String) throws(CNIError) {
    do throws(CNIConfigProblem) {
      if file.hasSuffix(".conflist") {
        try self.init(list: text, file: file)
      } else {
        let value = try CNIConfigProblem.parse(text)
        if value.cniMember("plugins") != nil && value.cniMember("type") == nil {
          throw CNIConfigProblem("no \"type\"; perhaps this is a .conflist?")
        }
        try self.init(single: text, file: file)
      }
    } catch {
      throw CNIError.invalidConfig(file: file, reason: error.reason)
    }
  }

  private init(list text: String, file: String?) throws(CNIConfigProblem) {
    let value = try CNIConfigProblem.parse(text)
    guard value.cniObject != nil else { throw CNIConfigProblem("not a JSON object") }
    let (name, version) = try Self.nameAndVersion(value)
    guard let pluginsValue = value.cniMember("plugins") else { throw CNIConfigProblem("no \"plugins\" key") }
    guard let pluginValues = pluginsValue.cniArray else { throw CNIConfigProblem("\"plugins\" is not an array") }
    guard !pluginValues.isEmpty else { throw CNIConfigProblem("\"plugins\" is empty") }
    var plugins: [CNIPluginConfig] = []
    for (index, plugin) in pluginValues.enumerated() {
      plugins.append(try CNIPluginConfig(raw: plugin, position: index + 1))
    }
    self.name = name
    self.cniVersion = version
    self.disableCheck = Self.flag(value.cniMember("disableCheck"))
    self.plugins = plugins
    self.file = file
    self.bytes = text
  }

  private init(single text: String, file: String?) throws(CNIConfigProblem) {
    let value = try CNIConfigProblem.parse(text)
    guard value.cniObject != nil else { throw CNIConfigProblem("not a JSON object") }
    let (name, version) = try Self.nameAndVersion(value)
    let plugin = try CNIPluginConfig(raw: value, position: 1)
    self.name = name
    self.cniVersion = version
    self.disableCheck = false
    self.plugins = [plugin]
    self.file = file
    self.bytes = JSONValue.object([
      ("cniVersion", .string(version)), ("name", .string(name)), ("plugins", .array([value])),
    ]).rendered()
  }

  private static func nameAndVersion(_ value: JSONValue) throws(CNIConfigProblem) -> (String, String) {
    guard let name = value.cniMember("name")?.cniString, !name.isEmpty else { throw CNIConfigProblem("no \"name\"") }
    guard CNIValidation.isNetworkName(name) else {
      throw CNIConfigProblem("invalid network name \(Quoting.doubleQuoted(name)) (letters, digits, _ . - only)")
    }
    guard let version = value.cniMember("cniVersion")?.cniString, !version.isEmpty else {
      throw CNIConfigProblem("no \"cniVersion\"")
    }
    guard CNIVersion(version) != nil else {
      throw CNIConfigProblem("invalid cniVersion \(Quoting.doubleQuoted(version))")
    }
    return (name, version)
  }

  /// libcni accepts a boolean or the strings "true"/"false".
  private static func flag(_ value: JSONValue?) -> Bool {
    switch value {
    case .bool(let flag)?: flag
    case .string(let text)?: text.lowercased() == "true"
    default: false
    }
  }

  public static func == (lhs: CNINetworkConfig, rhs: CNINetworkConfig) -> Bool {
    lhs.name == rhs.name && lhs.cniVersion == rhs.cniVersion && lhs.plugins == rhs.plugins && lhs.file == rhs.file
      && lhs.bytes == rhs.bytes && lhs.disableCheck == rhs.disableCheck
  }
}

/// Why one configuration cannot be used (internal; surfaces as CNIError).
struct CNIConfigProblem: Error {
  let reason: String
  init(_ reason: String) { self.reason = reason }

  static func parse(_ text: String) throws(CNIConfigProblem) -> JSONValue {
    do {
      return try CNIJSON.parse(text)
    } catch {
      throw CNIConfigProblem(error.description)
    }
  }
}

/// A CNI version ("0.3.1", "1.0.0"), compared numerically.
struct CNIVersion: Comparable, Sendable {
  let parts: [Int]

  init?(_ text: String) {
    let fields = text.split(separator: ".", omittingEmptySubsequences: false)
    guard (1...3).contains(fields.count) else { return nil }
    var parts: [Int] = []
    for field in fields {
      guard let number = Int(field), number >= 0, !field.hasPrefix("+") else { return nil }
      parts.append(number)
    }
    while parts.count < 3 { parts.append(0) }
    self.parts = parts
  }

  static func < (lhs: CNIVersion, rhs: CNIVersion) -> Bool { lhs.parts.lexicographicallyPrecedes(rhs.parts) }

  static func atLeast(_ version: String, _ minimum: String) -> Bool {
    guard let version = CNIVersion(version), let minimum = CNIVersion(minimum) else { return false }
    return version >= minimum
  }
}

/// The checks libcni makes before it runs plugins (pkg/utils): names that
/// end up in file paths and environment variables must be plain.
enum CNIValidation {
  private static func isPlain(_ text: String) -> Bool {
    guard let first = text.unicodeScalars.first, first.isASCIIAlphanumeric else { return false }
    return text.unicodeScalars.allSatisfy { $0.isASCIIAlphanumeric || $0 == "_" || $0 == "." || $0 == "-" }
  }

  /// `^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$`
  static func isNetworkName(_ name: String) -> Bool { isPlain(name) }

  static func isContainerID(_ id: String) -> Bool { isPlain(id) }

  /// A plugin `type` is a file name inside a plugin directory.
  static func isPluginName(_ name: String) -> Bool {
    !name.isEmpty && name != "." && name != ".." && !name.contains("/") && !name.contains("\0")
  }

  /// Linux interface names: 1...15 bytes, no "/", ":" or white space, not "." or "..".
  static func isInterfaceName(_ name: String) -> Bool {
    !name.isEmpty && name.utf8.count <= 15 && name != "." && name != ".."
      && !name.unicodeScalars.contains { $0 == "/" || $0 == ":" || $0.properties.isWhitespace || $0.value < 0x20 }
  }
}

extension Unicode.Scalar {
  fileprivate var isASCIIAlphanumeric: Bool {
    ("a"..."z").contains(self) || ("A"..."Z").contains(self) || ("0"..."9").contains(self)
  }
}
