/// A value as the schema moves it between TOML, the model and the renderers.
enum ConfigValue: Sendable, Equatable {
  case string(String)
  case int(Int)
  case bool(Bool)
  case strings([String])
}

/// The TOML type a key takes.
enum ConfigKind: Sendable {
  case string, int, bool, strings

  var expectation: String {
    switch self {
    case .string: "a string"
    case .int: "an integer"
    case .bool: "a boolean"
    case .strings: "an array of strings"
    }
  }
}

/// One configuration key, declared once: parsing, validation, unknown-key detection and
/// rendering all walk the lists of these in `ConfigSchema`.
struct ConfigKey<Root>: Sendable {
  /// Dotted table path, e.g. "crio.runtime"; handler keys use `ConfigSchema.handlerTable`.
  let table: String
  let name: String
  /// One line, rendered as the `#` comment above the key.
  let doc: String
  let kind: ConfigKind
  let get: @Sendable (Root) -> ConfigValue
  /// Stores a value of `kind` that `check` accepted.
  let set: @Sendable (inout Root, ConfigValue) -> Void
  /// Why a value of `kind` is invalid, or nil.
  let check: @Sendable (ConfigValue) -> String?
  /// Set for a key this daemon accepts only at its default value (a CRI-O feature it does
  /// not have): why another value cannot take effect. `validate()` stops start-up with it.
  var unsupported: String? = nil
}

extension ConfigKey {
  static func string(
    _ table: String, _ name: String, _ doc: String, _ path: WritableKeyPath<Root, String> & Sendable,
    check: Check.Text? = nil
  ) -> ConfigKey {
    ConfigKey(
      table: table, name: name, doc: doc, kind: .string,
      get: { .string($0[keyPath: path]) },
      set: { root, value in if case .string(let text) = value { root[keyPath: path] = text } },
      check: { value in
        guard case .string(let text) = value else { return "expected a string" }
        return Check.plain(text) ?? check?(text)
      })
  }

  /// A string key stored as an enum; `parse` may accept spellings beyond the raw values.
  static func choice<E: RawRepresentable<String> & CaseIterable & Sendable>(
    _ table: String, _ name: String, _ doc: String, _ path: WritableKeyPath<Root, E> & Sendable,
    parse: @escaping @Sendable (String) -> E? = { E(rawValue: $0) }
  ) -> ConfigKey {
    ConfigKey(
      table: table, name: name, doc: doc, kind: .string,
      get: { .string($0[keyPath: path].rawValue) },
      set: { root, value in
        if case .string(let text) = value, let parsed = parse(text) { root[keyPath: path] = parsed }
      },
      check: { value in
        guard case .string(let text) = value else { return "expected a string" }
        return parse(text) != nil
          ? nil : "expected \(Check.alternatives(E.allCases.map(\.rawValue))), got \(Check.quoted(text))"
      })
  }

  static func int(
    _ table: String, _ name: String, _ doc: String, _ path: WritableKeyPath<Root, Int> & Sendable,
    check: Check.Number? = nil
  ) -> ConfigKey {
    ConfigKey(
      table: table, name: name, doc: doc, kind: .int,
      get: { .int($0[keyPath: path]) },
      set: { root, value in if case .int(let number) = value { root[keyPath: path] = number } },
      check: { value in
        guard case .int(let number) = value else { return "expected an integer" }
        return check?(number)
      })
  }

  static func bool(
    _ table: String, _ name: String, _ doc: String, _ path: WritableKeyPath<Root, Bool> & Sendable
  ) -> ConfigKey {
    ConfigKey(
      table: table, name: name, doc: doc, kind: .bool,
      get: { .bool($0[keyPath: path]) },
      set: { root, value in if case .bool(let flag) = value { root[keyPath: path] = flag } },
      check: { value in
        guard case .bool = value else { return "expected a boolean" }
        return nil
      })
  }

  /// An array of strings; `each` is applied to every entry.
  static func strings(
    _ table: String, _ name: String, _ doc: String, _ path: WritableKeyPath<Root, [String]> & Sendable,
    each: Check.Text? = nil
  ) -> ConfigKey {
    ConfigKey(
      table: table, name: name, doc: doc, kind: .strings,
      get: { .strings($0[keyPath: path]) },
      set: { root, value in if case .strings(let list) = value { root[keyPath: path] = list } },
      check: { value in
        guard case .strings(let list) = value else { return "expected an array of strings" }
        for entry in list {
          if let failure = Check.plain(entry) ?? each?(entry) { return failure }
        }
        return nil
      })
  }

  /// This key, accepted only at its default value: any other value stops start-up with
  /// `reason`, because a value the daemon silently ignores is a promise broken.
  func refusedUnlessDefault(_ reason: String) -> ConfigKey {
    var key = self
    key.unsupported = reason
    return key
  }

  /// The description `crio config` and crio.conf(5) print: the doc line, and
  /// for a key accepted at its default only, that and why.
  var renderedDoc: String {
    unsupported.map { "\(doc) Accepted at its default only: \($0)." } ?? doc
  }

  /// `[table] name`, the form errors and warnings use.
  var qualifiedName: String { "[\(table)] \(name)" }
}
