extension CrioConfig {
  /// Checks every value against the schema plus the rules that span keys. The loader runs it
  /// after merging all files; run it again after applying command-line overrides. Errors from
  /// here carry no file: the caller knows where the values came from.
  public func validate() throws(ConfigError) {
    for key in ConfigSchema.keys {
      if let failure = key.check(key.get(self)) ?? Self.refusal(key, in: self, defaults: CrioConfig()) {
        throw ConfigError(key: key.qualifiedName, message: failure)
      }
    }
    for (name, handler) in runtime.runtimes.sorted(by: { $0.key < $1.key }) {
      try Self.validate(handler: handler, named: name, manager: runtime.cgroupManager)
    }
    if runtime.runtimes[runtime.defaultRuntime] == nil {
      let known = Check.alternatives(runtime.runtimes.keys.sorted())
      throw ConfigError(
        key: "[crio.runtime] default_runtime",
        message: "expected a runtime handler defined in [crio.runtime.runtimes] (\(known)), got \(Check.quoted(runtime.defaultRuntime))")
    }
    // CRI-O fails at start when TLS is on without a key pair; failing here names the key.
    if api.streamEnableTLS {
      for (name, value) in [("stream_tls_cert", api.streamTLSCert), ("stream_tls_key", api.streamTLSKey)] where value.isEmpty {
        throw ConfigError(key: "[crio.api] \(name)", message: "expected a file path because stream_enable_tls is true, got \"\"")
      }
    }
  }

  private static func validate(handler: RuntimeHandler, named name: String, manager: CgroupManager) throws(ConfigError) {
    let table = ConfigSchema.handlerTable(name)
    if let failure = Check.handlerName(name) {
      throw ConfigError(key: "[\(table)]", message: failure)
    }
    for key in ConfigSchema.handlerKeys {
      if let failure = key.check(key.get(handler)) ?? refusal(key, in: handler, defaults: RuntimeHandler()) {
        throw ConfigError(key: "[\(table)] \(key.name)", message: failure)
      }
    }
    // Under systemd the monitor must live in a slice (or the pod); cgroupfs has no slices.
    let cgroup = handler.monitorCgroup
    let fits =
      switch manager {
      case .systemd: cgroup.isEmpty || cgroup == "pod" || (cgroup.hasSuffix(".slice") && cgroup.count > ".slice".count)
      case .cgroupfs: cgroup.isEmpty || cgroup == "pod"
      }
    if !fits {
      let expected = manager == .systemd ? "\"pod\", a systemd slice such as \"system.slice\" or \"\"" : "\"pod\" or \"\""
      throw ConfigError(
        key: "[\(table)] monitor_cgroup",
        message: "expected \(expected) with cgroup_manager \(Check.quoted(manager.rawValue)), got \(Check.quoted(cgroup))")
    }
  }

  /// Why the value of a key accepted only at its default cannot stand, or nil.
  private static func refusal<Root>(_ key: ConfigKey<Root>, in root: Root, defaults: Root) -> String? {
    guard let reason = key.unsupported else { return nil }
    let (value, standard) = (key.get(root), key.get(defaults))
    guard value != standard else { return nil }
    return "\(TOMLText.value(value)) cannot take effect: \(reason); only the default \(TOMLText.value(standard)) is accepted"
  }
}

extension CrioConfig {
  /// `[table] key` of every key (handler keys as `[crio.runtime.runtimes.<name>] key`)
  /// whose value differs between the two configurations, in schema order.
  public func differingKeys(from other: CrioConfig) -> [String] {
    var keys = ConfigSchema.keys.filter { $0.get(self) != $0.get(other) }.map(\.qualifiedName)
    for name in Set(runtime.runtimes.keys).union(other.runtime.runtimes.keys).sorted() {
      guard let mine = runtime.runtimes[name], let theirs = other.runtime.runtimes[name] else {
        keys.append("[\(ConfigSchema.handlerTable(name))]")
        continue
      }
      keys += ConfigSchema.handlerKeys.filter { $0.get(mine) != $0.get(theirs) }.map { "[\(ConfigSchema.handlerTable(name))] \($0.name)" }
    }
    return keys
  }
}
