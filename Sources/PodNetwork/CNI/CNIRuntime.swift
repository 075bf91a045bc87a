import Support

#if canImport(Glibc)
import Glibc
#endif

/// Runs CNI plugins for pods (SPEC.md "Execution protocol" and "Network
/// configuration lists", as libcni and CRI-O's ocicni do it): ADD in list
/// order, DEL in reverse, CHECK for 0.4.0 and later, results cached on disk.
///
/// Stateless apart from the cache files: calls for different pods may run
/// concurrently; the caller serialises calls for one pod.
public struct CNIRuntime: Sendable {
  public let plugins: CNIPlugins
  public let cache: CNIResultCache
  /// How long one plugin invocation may run before it is killed.
  public let timeout: Duration
  /// Told about things that did not fail the call but leave something to
  /// look at (a DEL after a failed ADD that failed too).
  public let warn: @Sendable (String) -> Void

  public init(
    plugins: CNIPlugins, cacheDir: String, timeout: Duration = .seconds(60),
    warn: @escaping @Sendable (String) -> Void = { _ in }
  ) {
    self.plugins = plugins
    self.cache = CNIResultCache(dir: cacheDir)
    self.timeout = timeout
    self.warn = warn
  }

  // MARK: - ADD

  /// Attaches the pod's network namespace to `network`. On failure every
  /// plugin is asked to DEL again (no address or veth is left behind) and
  /// the original error is thrown.
  public func add(
    network: CNINetworkConfig, pod: CNIPodInfo, netnsPath: String, capabilities: CNICapabilityArgs = CNICapabilityArgs()
  ) async throws(CNIError) -> CNIResult {
    try validate(pod)
    guard !netnsPath.isEmpty, Files.kind(of: netnsPath) != .missing else {
      throw .invalidArgument("network namespace \(Quoting.doubleQuoted(netnsPath)) of pod \(pod.namespace)/\(pod.name) does not exist")
    }
    let paths = try locate(network)
    let capabilityArgs = capabilities.json
    var previous: CNIResult?
    do throws(CNIError) {
      for (plugin, path) in zip(network.plugins, paths) {
        let output = try await invoke(
          "ADD", plugin: plugin, path: path, network: network, pod: pod, netns: netnsPath,
          prevResult: previous, capabilityArgs: capabilityArgs)
        guard !output.allSatisfy({ $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }) else {
          throw .invalidResult(plugin: plugin.type, network: network.name, reason: "no result printed")
        }
        do {
          previous = try CNIResult(json: output)
        } catch {
          throw .invalidResult(plugin: plugin.type, network: network.name, reason: error.description)
        }
      }
      guard let result = previous else {
        throw .invalidResult(plugin: network.plugins.last?.type ?? "", network: network.name, reason: "no result")
      }
      try cache.write(CNICacheEntry(
        containerID: pod.id, ifName: pod.ifName, networkName: network.name, netns: netnsPath, cniArgs: pod.cniArgs,
        capabilityArgs: capabilityArgs, config: network, result: result))
      return result
    } catch {
      do {
        let prevResult = CNIVersion.atLeast(network.cniVersion, "0.4.0") ? previous : nil
        try await runDelete(
          network: network, paths: paths, pod: pod, netns: netnsPath, capabilityArgs: capabilityArgs, prevResult: prevResult)
      } catch let cleanup {
        warn("cleaning up after the failed CNI ADD of pod \(pod.namespace)/\(pod.name) (\(pod.id)) on network \(network.name) failed too: \(cleanup)")
      }
      throw error
    }
  }

  // MARK: - DEL

  /// Detaches the pod from `network`. The configuration and capability
  /// arguments ADD used are taken from the cache when it has them, so DEL
  /// undoes exactly what ADD did; otherwise `network` and `capabilities`
  /// are used. With `network` nil, every network cached for the pod is
  /// deleted (nothing when none is).
  ///
  /// Idempotent: a namespace that no longer exists (or whose pinning mount
  /// is gone) is passed as an empty CNI_NETNS (plugins then release
  /// addresses and host-side state), and a
  /// second DEL runs the plugins again, which the spec requires to succeed.
  public func delete(
    network: CNINetworkConfig?, pod: CNIPodInfo, netnsPath: String?, capabilities: CNICapabilityArgs = CNICapabilityArgs()
  ) async throws(CNIError) {
    try validate(pod)
    let netns = netnsPath.flatMap { Self.isNetworkNamespace($0) ? $0 : nil } ?? ""
    var targets: [(config: CNINetworkConfig, capabilityArgs: JSONValue, result: CNIResult?)] = []
    if let network {
      let entry: CNICacheEntry?
      do {
        entry = try cache.read(networkName: network.name, containerID: pod.id, ifName: pod.ifName)
      } catch {
        warn("ignoring the CNI cache of pod \(pod.namespace)/\(pod.name) (\(pod.id)): \(error)")
        entry = nil
      }
      if let entry {
        targets.append((entry.config, entry.capabilityArgs, entry.result))
      } else {
        targets.append((network, capabilities.json, nil))
      }
    } else {
      for entry in cache.entries(containerID: pod.id, ifName: pod.ifName) {
        targets.append((entry.config, entry.capabilityArgs, entry.result))
      }
    }
    var firstError: CNIError?
    for target in targets {
      do throws(CNIError) {
        let paths = try locate(target.config)
        let prevResult = CNIVersion.atLeast(target.config.cniVersion, "0.4.0") ? target.result : nil
        try await runDelete(
          network: target.config, paths: paths, pod: pod, netns: netns, capabilityArgs: target.capabilityArgs,
          prevResult: prevResult)
        try cache.remove(networkName: target.config.name, containerID: pod.id, ifName: pod.ifName)
      } catch {
        if firstError == nil { firstError = error }
      }
    }
    if let firstError { throw firstError }
  }

  /// DEL through every plugin in reverse order. A failing plugin does not
  /// stop the others (each releases what it can); the first error is thrown.
  private func runDelete(
    network: CNINetworkConfig, paths: [String], pod: CNIPodInfo, netns: String, capabilityArgs: JSONValue, prevResult: CNIResult?
  ) async throws(CNIError) {
    var firstError: CNIError?
    for (plugin, path) in zip(network.plugins, paths).reversed() {
      do {
        _ = try await invoke(
          "DEL", plugin: plugin, path: path, network: network, pod: pod, netns: netns, prevResult: prevResult,
          capabilityArgs: capabilityArgs)
      } catch {
        if firstError == nil { firstError = error }
      }
    }
    if let firstError { throw firstError }
  }

  // MARK: - CHECK

  /// Asks every plugin whether the pod's network is still as ADD left it.
  /// Needs cniVersion 0.4.0 or later and the cached ADD result; a list with
  /// `disableCheck` passes without running anything.
  public func check(network: CNINetworkConfig, pod: CNIPodInfo, netnsPath: String) async throws(CNIError) {
    try validate(pod)
    guard CNIVersion.atLeast(network.cniVersion, "0.4.0") else {
      throw .checkUnsupported(network: network.name, version: network.cniVersion)
    }
    if network.disableCheck { return }
    guard let entry = try cache.read(networkName: network.name, containerID: pod.id, ifName: pod.ifName),
      let result = entry.result
    else {
      throw .noCachedResult(network: network.name, containerID: pod.id)
    }
    let paths = try locate(network)
    for (plugin, path) in zip(network.plugins, paths) {
      _ = try await invoke(
        "CHECK", plugin: plugin, path: path, network: network, pod: pod, netns: netnsPath, prevResult: result,
        capabilityArgs: entry.capabilityArgs)
    }
  }

  // MARK: - Cache

  /// The result ADD returned for the pod on `networkName`, from the cache.
  public func cachedResult(networkName: String, pod: CNIPodInfo) throws(CNIError) -> CNIResult? {
    try cache.read(networkName: networkName, containerID: pod.id, ifName: pod.ifName)?.result
  }

  /// Every cache entry of the pod (one per network it was added to).
  public func cachedEntries(pod: CNIPodInfo) -> [CNICacheEntry] {
    cache.entries(containerID: pod.id, ifName: pod.ifName)
  }

  // MARK: - Invocation

  /// Whether `path` is a namespace (an nsfs bind mount, or /proc/<pid>/ns/net):
  /// it lives on the same (nsfs) device as our own /proc/self/ns/net.
  /// A pinned file whose mount is gone is not: plugins would fail on it, so
  /// DEL passes an empty CNI_NETNS instead, as for a missing one.
  static func isNetworkNamespace(_ path: String) -> Bool {
    guard !path.isEmpty else { return false }
    var info = stat()
    var own = stat()
    guard stat(path, &info) == 0, stat("/proc/self/ns/net", &own) == 0 else { return false }
    return info.st_dev == own.st_dev
  }

  private func validate(_ pod: CNIPodInfo) throws(CNIError) {
    guard CNIValidation.isContainerID(pod.id) else {
      throw .invalidArgument("invalid container ID \(Quoting.doubleQuoted(pod.id)) for CNI (letters, digits, _ . - only)")
    }
    guard CNIValidation.isInterfaceName(pod.ifName) else {
      throw .invalidArgument("invalid interface name \(Quoting.doubleQuoted(pod.ifName)) for CNI")
    }
  }

  /// Every plugin's binary, before anything runs (so a missing one leaves nothing behind).
  private func locate(_ network: CNINetworkConfig) throws(CNIError) -> [String] {
    var paths: [String] = []
    for plugin in network.plugins {
      guard let path = plugins.find(plugin.type) else {
        throw .pluginNotFound(plugin: plugin.type, network: network.name, searched: plugins.dirs)
      }
      paths.append(path)
    }
    return paths
  }

  /// The plugin's stdin: its configuration with the list's name and
  /// cniVersion, the previous result and the runtime configuration for the
  /// capabilities it declares (libcni's buildOneConfig).
  static func pluginConfig(
    _ plugin: CNIPluginConfig, network: CNINetworkConfig, prevResult: CNIResult?, capabilityArgs: JSONValue
  ) -> JSONValue {
    var config = plugin.raw
      .cniSetting("name", .string(network.name))
      .cniSetting("cniVersion", .string(network.cniVersion))
    if let prevResult {
      config = config.cniSetting("prevResult", (try? CNIJSON.parse(prevResult.rawJSON)) ?? .raw(prevResult.rawJSON))
    }
    let runtimeConfig = (capabilityArgs.cniObject ?? []).filter { plugin.capabilities.contains($0.0) }
    if !runtimeConfig.isEmpty {
      config = config.cniSetting("runtimeConfig", .object(runtimeConfig))
    }
    return config
  }

  /// CNI_ARGS: "K=V;K=V".
  static func cniArgsString(_ args: [(String, String)]) -> String {
    args.map { "\($0.0)=\($0.1)" }.joined(separator: ";")
  }

  private func invoke(
    _ command: String, plugin: CNIPluginConfig, path: String, network: CNINetworkConfig, pod: CNIPodInfo, netns: String,
    prevResult: CNIResult?, capabilityArgs: JSONValue
  ) async throws(CNIError) -> String {
    let stdin = Self.pluginConfig(plugin, network: network, prevResult: prevResult, capabilityArgs: capabilityArgs).rendered()
    let environment = CNIPluginProcess.environment(adding: [
      ("CNI_COMMAND", command),
      ("CNI_CONTAINERID", pod.id),
      ("CNI_NETNS", netns),
      ("CNI_IFNAME", pod.ifName),
      ("CNI_ARGS", Self.cniArgsString(pod.cniArgs)),
      ("CNI_PATH", plugins.cniPath),
    ])
    let outcome: CNIPluginProcess.Outcome
    do {
      outcome = try await CNIPluginProcess.run(path, stdin: stdin, environment: environment, timeout: timeout)
    } catch {
      throw .system("cannot run CNI plugin \(path) (\(command)) for network \(network.name): \(error)")
    }
    guard let status = outcome.status else {
      throw .pluginTimedOut(
        plugin: plugin.type, network: network.name, command: command, seconds: Int(timeout.components.seconds))
    }
    guard status == 0 else {
      var failure = CNIPluginFailure(
        plugin: plugin.type, network: network.name, command: command, exitStatus: status, code: nil, message: "", details: "",
        stderr: Self.lastLines(outcome.stderr))
      if let error = try? CNIJSON.parse(outcome.stdout), error.cniObject != nil {
        failure.code = error.cniMember("code")?.cniInt
        failure.message = error.cniMember("msg")?.cniString ?? ""
        failure.details = error.cniMember("details")?.cniString ?? ""
      } else if failure.stderr.isEmpty {
        failure.stderr = Self.lastLines(outcome.stdout)
      }
      throw .pluginFailed(failure)
    }
    return outcome.stdout
  }

  private static func lastLines(_ text: String) -> String {
    text.split(separator: "\n").suffix(3).joined(separator: " / ")
  }
}
