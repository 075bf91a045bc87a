import CRIAPI
import ContainerSecurity
import Config
import FoundationEssentials
import OCI

/// The container process: arguments, environment, working directory, user
/// and capabilities.
extension ContainerSpecBuilder {
  /// Kubernetes' rules: `command` replaces the image's Entrypoint and `args`
  /// its Cmd; a `command` without `args` does not use the image's Cmd.
  static func arguments(config: Runtime_V1_ContainerConfig, image: ContainerDefaults?) throws(CRIError) -> [String] {
    let result: [String]
    if !config.command.isEmpty {
      result = config.command + config.args
    } else {
      let cmd = config.args.isEmpty ? (image?.cmd ?? []) : config.args
      result = (image?.entrypoint ?? []) + cmd
    }
    guard !result.isEmpty else { throw .invalidArgument("no command specified") }
    for argument in result where argument.utf8.contains(0) {
      throw .invalidArgument("command argument \(String(reflecting: argument)) contains a NUL byte")
    }
    return result
  }

  /// `defaultEnv`, then HOSTNAME (and TERM for a terminal), then the image's
  /// Env, then the CRI envs: a later value replaces an earlier one with the
  /// same key in its first position. PATH is added when nobody set it.
  static func environment(_ inputs: ContainerSpecInputs) throws(CRIError) -> [String] {
    var keys: [String] = []
    var values: [String: String?] = [:]
    func set(_ key: String, _ value: String?) {
      if values[key] == nil { keys.append(key) }
      values[key] = .some(value)
    }
    func add(_ entry: String, source: String) throws(CRIError) {
      if entry.utf8.contains(0) { throw .invalidArgument("\(source) entry \(String(reflecting: entry)) contains a NUL byte") }
      if let equals = entry.firstIndex(of: "=") {
        let key = String(entry[..<equals])
        guard !key.isEmpty else { throw .invalidArgument("\(source) entry \(String(reflecting: entry)) has an empty name") }
        set(key, String(entry[entry.index(after: equals)...]))
      } else if !entry.isEmpty {
        // "NAME" without a value: passed on as it is.
        set(entry, nil)
      }
    }

    for entry in inputs.defaultEnv { try add(entry, source: "default_env") }
    if !inputs.hostname.isEmpty { set("HOSTNAME", inputs.hostname) }
    if inputs.config.tty { set("TERM", "xterm") }
    for entry in inputs.image.config?.env ?? [] { try add(entry, source: "image Env") }
    for pair in inputs.config.envs {
      let key = pair.key
      guard !key.isEmpty else { throw .invalidArgument("envs: an environment variable has an empty key") }
      if key.contains("=") || key.utf8.contains(0) {
        throw .invalidArgument("envs: key \(String(reflecting: key)) contains \"=\" or a NUL byte")
      }
      guard let value = String(validating: pair.value, as: UTF8.self) else {
        throw .invalidArgument("envs: the value of \(key) is not UTF-8")
      }
      if value.utf8.contains(0) { throw .invalidArgument("envs: the value of \(key) contains a NUL byte") }
      set(key, value)
    }
    if values["PATH"] == nil {
      keys.insert("PATH", at: 0)
      values["PATH"] = .some(defaultPath)
    }
    return keys.map { key in
      if case .some(.some(let value)) = values[key] { return key + "=" + value }
      return key
    }
  }

  static func workingDirectory(config: Runtime_V1_ContainerConfig, image: ContainerDefaults?) throws(CRIError) -> String {
    if !config.workingDir.isEmpty {
      guard config.workingDir.hasPrefix("/") else {
        throw .invalidArgument("working_dir \(String(reflecting: config.workingDir)) is not an absolute path")
      }
      return config.workingDir
    }
    if let directory = image?.workingDir, !directory.isEmpty {
      guard directory.hasPrefix("/") else {
        throw .invalidArgument("the image's WorkingDir \(String(reflecting: directory)) is not an absolute path")
      }
      return directory
    }
    return "/"
  }

  // MARK: - User

  /// CRI-O's rules: run_as_user, else run_as_username, else the image's User;
  /// run_as_group replaces the group part; supplemental_groups come last.
  static func user(_ inputs: ContainerSpecInputs) throws(CRIError) -> Spec.User {
    let security = inputs.config.linux.securityContext
    var spec: String
    if security.hasRunAsUser {
      let uid = try checkedID(security.runAsUser.value, field: "linux.security_context.run_as_user")
      spec = String(uid)
    } else {
      spec = security.runAsUsername
      if spec.contains(":") {
        throw .invalidArgument("linux.security_context.run_as_username \(String(reflecting: spec)) contains \":\"")
      }
    }
    if spec.isEmpty { spec = inputs.image.config?.user ?? "" }
    if security.hasRunAsGroup {
      // CRI-O's rule: a group alone would pair with whatever user the image
      // names, which the pod's author cannot see.
      guard security.hasRunAsUser || !security.runAsUsername.isEmpty else {
        throw .invalidArgument("linux.security_context.run_as_group is set without run_as_user or run_as_username")
      }
      let gid = try checkedID(security.runAsGroup.value, field: "linux.security_context.run_as_group")
      let userPart = spec.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
      spec = String(userPart) + ":" + String(gid)
    }
    let resolved = try ImageUser.resolve(spec, rootfs: inputs.rootfs)
    var additional: [UInt32] = security.supplementalGroupsPolicy == .strict ? [] : resolved.additionalGids
    for group in security.supplementalGroups {
      let gid = try checkedID(group, field: "linux.security_context.supplemental_groups")
      if !additional.contains(gid) { additional.append(gid) }
    }
    return Spec.User(uid: resolved.uid, gid: resolved.gid, additionalGids: additional.isEmpty ? nil : additional)
  }

  static func checkedID(_ value: Int64, field: String) throws(CRIError) -> UInt32 {
    guard let id = UInt32(exactly: value) else {
      throw .invalidArgument("\(field) \(value) is outside 0...4294967295")
    }
    return id
  }

  // MARK: - Capabilities

  /// CRI-O's rules. Privileged: the daemon's whole bounding set. Otherwise the
  /// defaults (unless "ALL" is added or dropped), "ALL" added or dropped
  /// first, then the named additions, then the named drops. The same set is
  /// bounding, effective and permitted; inheritable and ambient stay empty.
  /// CRI-O's rules on the daemon's own bounding set (`CapabilitySet`).
  static func capabilities(
    security: Runtime_V1_LinuxContainerSecurityContext, defaults: [String], host: ContainerSpecHost
  ) throws(CRIError) -> Spec.Capabilities {
    do {
      return try CapabilitySet.compute(
        defaults: defaults, add: security.capabilities.addCapabilities, drop: security.capabilities.dropCapabilities,
        addAmbient: security.capabilities.addAmbientCapabilities, privileged: security.privileged,
        bounding: host.boundingCapabilities
      ).ociCapabilities
    } catch {
      throw .invalidArgument("linux.security_context.capabilities: \(error)")
    }
  }
}
