import Support
import TOMLKit

extension RegistriesConf {
  /// The main file, then `dropInDir/*.conf` in lexical order, each on top of
  /// the last (containers-registries.conf.d(5)). Missing files and a missing
  /// directory are an empty configuration, as in containers-image.
  public static func load(path: String, dropInDir: String) throws(RegistryError) -> RegistriesConf {
    var files: [String] = []
    if Files.kind(of: path) != .missing { files.append(path) }
    if Files.kind(of: dropInDir) == .directory {
      let names: [String]
      do {
        names = try Files.list(dropInDir)
      } catch {
        throw .invalidConfig(file: dropInDir, detail: error.description)
      }
      files += names.filter { $0.hasSuffix(".conf") }.sorted().map { dropInDir + "/" + $0 }
    }
    var config = RegistriesConf()
    for file in files {
      let text: String
      do {
        text = try Files.read(file)
      } catch {
        throw .invalidConfig(file: file, detail: error.description)
      }
      try RegistriesConfFile(file: file).parse(text).apply(to: &config)
    }
    return config
  }

  /// One document on its own (no drop-ins).
  public static func parse(toml: String, file: String) throws(RegistryError) -> RegistriesConf {
    var config = RegistriesConf()
    try RegistriesConfFile(file: file).parse(toml).apply(to: &config)
    return config
  }
}

/// What one file sets; unset keys leave earlier files' values alone.
struct RegistriesConfLayer {
  var unqualifiedSearchRegistries: [String]?
  var registries: [RegistriesConf.Registry] = []
  var aliases: [String: String] = [:]
  var shortNameMode: String?
  var warnings: [String] = []

  /// A drop-in replaces the search list if it sets one, replaces
  /// `[[registry]]` entries with the same prefix, and adds aliases.
  func apply(to config: inout RegistriesConf) {
    if let unqualifiedSearchRegistries { config.unqualifiedSearchRegistries = unqualifiedSearchRegistries }
    for entry in registries {
      if let index = config.registries.firstIndex(where: { $0.prefix == entry.prefix }) {
        config.registries[index] = entry
      } else {
        config.registries.append(entry)
      }
    }
    config.aliases.merge(aliases) { _, new in new }
    if let shortNameMode { config.shortNameMode = shortNameMode }
    config.warnings += warnings
  }
}

/// Reads one registries.conf document, naming the file and key in every error.
struct RegistriesConfFile {
  let file: String

  func fail(_ detail: String) -> RegistryError { .invalidConfig(file: file, detail: detail) }

  func parse(_ text: String) throws(RegistryError) -> RegistriesConfLayer {
    if let problem = TOMLSourceCheck.firstProblem(in: text) {
      throw fail("invalid TOML at line \(problem.line), column \(problem.column): \(problem.message)")
    }
    let root: TOMLTable
    do {
      root = try TOMLTable(string: text)
    } catch let failure as TOMLParseError {
      throw fail(
        "invalid TOML at line \(failure.source.begin.line), column \(failure.source.begin.column): \(failure.description)")
    } catch {
      throw fail("invalid TOML: \(error)")
    }
    var layer = RegistriesConfLayer()
    var sawV1 = false
    var sawV2 = false
    for key in root.keys.sorted() {
      guard let value = root[key] else { continue }
      switch key {
      case "unqualified-search-registries":
        sawV2 = true
        let hosts = try strings(value, key: key)
        for host in hosts where ReferenceSyntax.domainProblem(Substring(host)) != nil || host.contains("/") {
          throw fail("\(key): \"\(host)\" is not a registry host name")
        }
        layer.unqualifiedSearchRegistries = hosts
      case "short-name-mode":
        sawV2 = true
        let mode = try string(value, key: key)
        guard ["enforcing", "permissive", "disabled"].contains(mode) else {
          throw fail("\(key): \"\(mode)\" is not one of enforcing, permissive, disabled")
        }
        layer.shortNameMode = mode
      case "registry":
        sawV2 = true
        guard let array = value.array else { throw fail("registry: expected [[registry]] tables, got \(value.type)") }
        for (index, element) in array.enumerated() {
          guard let table = element.table else { throw fail("[[registry]] #\(index + 1): expected a table") }
          let entry = try registry(table, number: index + 1)
          if layer.registries.contains(where: { $0.prefix == entry.prefix }) {
            throw fail("[[registry]] prefix \"\(entry.prefix)\" is defined more than once")
          }
          layer.registries.append(entry)
        }
      case "aliases":
        sawV2 = true
        guard let table = value.table else { throw fail("aliases: expected a table, got \(value.type)") }
        for name in table.keys.sorted() {
          guard let target = table[name] else { continue }
          layer.aliases[name] = try alias(name, try string(target, key: "aliases.\(name)"))
        }
      case "registries":
        sawV1 = true
        try applyVersion1(value, to: &layer)
      case "credential-helpers", "additional-layer-store-auth-helper":
        // Credentials come from the kubelet's AuthConfig; helpers are not run.
        layer.warnings.append("\(file): \(key) is not used by this runtime, ignored")
      default:
        layer.warnings.append("\(file): unknown key \(key), ignored")
      }
    }
    if sawV1 && sawV2 {
      throw fail("mixes the version 1 [registries.*] tables with version 2 keys; use only version 2")
    }
    return layer
  }

  private func registry(_ table: TOMLTable, number: Int) throws(RegistryError) -> RegistriesConf.Registry {
    let context = "[[registry]] #\(number)"
    var prefix = ""
    var location = ""
    var entry = RegistriesConf.Registry(prefix: "", location: "")
    var mirrorTables: [TOMLTable] = []
    for key in table.keys.sorted() {
      guard let value = table[key] else { continue }
      switch key {
      case "prefix": prefix = try string(value, key: "\(context) prefix")
      case "location": location = try string(value, key: "\(context) location")
      case "insecure": entry.insecure = try bool(value, key: "\(context) insecure")
      case "blocked": entry.blocked = try bool(value, key: "\(context) blocked")
      case "mirror-by-digest-only": entry.mirrorByDigestOnly = try bool(value, key: "\(context) mirror-by-digest-only")
      case "mirror":
        guard let array = value.array else { throw fail("\(context) mirror: expected [[registry.mirror]] tables") }
        for element in array {
          guard let mirror = element.table else { throw fail("\(context) mirror: expected [[registry.mirror]] tables") }
          mirrorTables.append(mirror)
        }
      default: break
      }
    }
    entry.location = try self.location(location, key: "\(context) location")
    prefix = trimmingSlashes(prefix)
    if prefix.isEmpty {
      guard !entry.location.isEmpty else { throw fail("\(context): neither prefix nor location is set") }
      prefix = entry.location
    }
    if prefix.hasPrefix("*.") {
      guard !prefix.dropFirst(2).contains("*"), !prefix.contains("/") else {
        throw fail("\(context) prefix \"\(prefix)\": a wildcard prefix must be *.domain, with no path")
      }
    } else {
      if prefix.contains("*") { throw fail("\(context) prefix \"\(prefix)\": \"*\" is only allowed as \"*.domain\"") }
      // A prefix alone (typically to block or mark insecure) is its own location.
      if entry.location.isEmpty { entry.location = prefix }
    }
    entry.prefix = prefix
    for (index, mirrorTable) in mirrorTables.enumerated() {
      entry.mirrors.append(try mirror(mirrorTable, context: "\(context) mirror #\(index + 1)"))
    }
    return entry
  }

  private func mirror(_ table: TOMLTable, context: String) throws(RegistryError) -> RegistriesConf.Mirror {
    var mirror = RegistriesConf.Mirror(location: "")
    for key in table.keys.sorted() {
      guard let value = table[key] else { continue }
      switch key {
      case "location": mirror.location = try location(try string(value, key: "\(context) location"), key: "\(context) location")
      case "insecure": mirror.insecure = try bool(value, key: "\(context) insecure")
      case "pull-from-mirror":
        let text = try string(value, key: "\(context) pull-from-mirror")
        guard let mode = RegistriesConf.PullFromMirror(rawValue: text) else {
          throw fail("\(context) pull-from-mirror: \"\(text)\" is not one of all, digest-only, tag-only")
        }
        mirror.pullFromMirror = mode
      default: break
      }
    }
    guard !mirror.location.isEmpty else { throw fail("\(context): location is required") }
    return mirror
  }

  /// Aliases map a short name to a fully-qualified name, neither with a tag
  /// or digest: the user's tag or digest is applied to the alias.
  private func alias(_ name: String, _ target: String) throws(RegistryError) -> String {
    let short: ImageReference
    do {
      short = try ImageReference(parsing: name)
    } catch {
      throw fail("alias \"\(name)\": \(error)")
    }
    let split = ReferenceSyntax.split(name)
    guard short.isShortName, split.tag == nil, split.digest == nil else {
      throw fail("alias \"\(name)\" must be a short name without registry, tag or digest")
    }
    let qualified: ImageReference
    do {
      qualified = try ImageReference(parsing: target)
    } catch {
      throw fail("alias \"\(name)\": \(error)")
    }
    let targetSplit = ReferenceSyntax.split(target)
    guard !qualified.isShortName, targetSplit.tag == nil, targetSplit.digest == nil else {
      throw fail("alias \"\(name)\" = \"\(target)\": the value must be a fully-qualified name without tag or digest")
    }
    return target
  }

  /// Version 1 (`[registries.search]`, `.insecure`, `.block`), translated to v2.
  private func applyVersion1(_ value: TOMLValueConvertible, to layer: inout RegistriesConfLayer) throws(RegistryError) {
    guard let table = value.table else { throw fail("registries: expected a table") }
    func hosts(_ section: String) throws(RegistryError) -> [String] {
      guard let sub = table[section] else { return [] }
      guard let subTable = sub.table else { throw fail("[registries.\(section)]: expected a table") }
      guard let list = subTable["registries"] else { return [] }
      return try strings(list, key: "[registries.\(section)] registries")
    }
    layer.unqualifiedSearchRegistries = try hosts("search")
    var byHost: [String: RegistriesConf.Registry] = [:]
    var order: [String] = []
    for (section, isBlock) in [("insecure", false), ("block", true)] {
      for host in try hosts(section) {
        let location = try self.location(host, key: "[registries.\(section)] registries")
        if byHost[location] == nil {
          order.append(location)
          byHost[location] = RegistriesConf.Registry(prefix: location, location: location)
        }
        if isBlock { byHost[location]?.blocked = true } else { byHost[location]?.insecure = true }
      }
    }
    layer.registries = order.compactMap { byHost[$0] }
  }

  /// A location is `host[:port][/path]` without a URL scheme.
  private func location(_ text: String, key: String) throws(RegistryError) -> String {
    if text.contains("://") { throw fail("\(key) \"\(text)\": URL schemes are not supported, write host[:port][/path]") }
    return trimmingSlashes(text)
  }

  private func trimmingSlashes(_ text: String) -> String {
    var result = Substring(text)
    while result.hasSuffix("/") { result = result.dropLast() }
    return String(result)
  }

  private func string(_ value: TOMLValueConvertible, key: String) throws(RegistryError) -> String {
    guard let text = value.string else { throw fail("\(key): expected a string, got \(value.type)") }
    return text
  }

  private func bool(_ value: TOMLValueConvertible, key: String) throws(RegistryError) -> Bool {
    guard let flag = value.bool else { throw fail("\(key): expected true or false, got \(value.type)") }
    return flag
  }

  private func strings(_ value: TOMLValueConvertible, key: String) throws(RegistryError) -> [String] {
    guard let array = value.array else { throw fail("\(key): expected an array of strings, got \(value.type)") }
    var result: [String] = []
    for element in array {
      guard let text = element.string else { throw fail("\(key): expected an array of strings, found \(element.type)") }
      result.append(text)
    }
    return result
  }
}
