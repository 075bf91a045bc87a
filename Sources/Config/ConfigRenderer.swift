import Support

extension CrioConfig {
  /// The effective configuration as commented TOML, as `crio config` prints it. Every
  /// supported key appears with its value, so the output loads back to an equal config.
  public func renderTOML() -> String {
    var out = """
      # CRI-O compatible configuration (crio.conf(5) layout), as printed by `crio config`.
      # It lists every key this daemon reads with its effective value. Put it in
      # /etc/crio/crio.conf, or put single keys in /etc/crio/crio.conf.d/*.conf drop-ins,
      # which are read in lexical order and override only the keys they set.


      """
    for (path, doc) in ConfigSchema.tables {
      out += "# \(doc)\n[\(path)]\n\n"
      for key in ConfigSchema.keys where key.table == path {
        out += Self.render(key, key.get(self))
      }
      if path == "crio.runtime" {
        for (name, handler) in runtime.runtimes.sorted(by: { $0.key < $1.key }) {
          out += "# Runtime handler \(Check.quoted(name)), chosen by the kubelet's RuntimeClass handler name.\n"
          out += "[\(ConfigSchema.handlerTable(name))]\n\n"
          for key in ConfigSchema.handlerKeys {
            out += Self.render(key, key.get(handler))
          }
        }
      }
    }
    return out
  }

  /// The effective configuration as one flat JSON object with sorted keys, e.g.
  /// `"crio.api.listen": "/var/run/crio/crio.sock"`; for Status verbose info.
  public func jsonValue() -> JSONValue {
    var members: [(String, JSONValue)] = []
    for key in ConfigSchema.keys {
      members.append(("\(key.table).\(key.name)", Self.json(key.get(self))))
    }
    for (name, handler) in runtime.runtimes {
      for key in ConfigSchema.handlerKeys {
        members.append(("\(ConfigSchema.handlersTable).\(name).\(key.name)", Self.json(key.get(handler))))
      }
    }
    return .object(members.sorted { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) })
  }

  /// `jsonValue()` as text.
  public func renderJSON() -> String {
    jsonValue().rendered()
  }

  private static func render<Root>(_ key: ConfigKey<Root>, _ value: ConfigValue) -> String {
    "# \(key.renderedDoc)\n\(key.name) = \(TOMLText.value(value))\n\n"
  }

  private static func json(_ value: ConfigValue) -> JSONValue {
    switch value {
    case .string(let text): .string(text)
    case .int(let number): .int(number)
    case .bool(let flag): .bool(flag)
    case .strings(let list): .array(list.map { .string($0) })
    }
  }
}
