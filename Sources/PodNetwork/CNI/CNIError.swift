/// What went wrong with the pod network, worded for the person reading the
/// kubelet event or `crictl` output.
public enum CNIError: Error, Sendable, Equatable, CustomStringConvertible {
  /// A network configuration file cannot be used.
  case invalidConfig(file: String, reason: String)
  /// No usable network (NetworkReady is false): `reason` says why.
  case noNetwork(reason: String)
  /// A container ID, interface name or network name CNI would reject.
  case invalidArgument(String)
  /// The plugin binary named by a config's `type` is in none of the plugin directories.
  case pluginNotFound(plugin: String, network: String, searched: [String])
  /// A plugin exited non-zero; `message` and `details` are from its error
  /// result when it printed one.
  case pluginFailed(CNIPluginFailure)
  /// A plugin ran longer than the configured timeout and was killed.
  case pluginTimedOut(plugin: String, network: String, command: String, seconds: Int)
  /// A plugin succeeded but its output is not a CNI result.
  case invalidResult(plugin: String, network: String, reason: String)
  /// CHECK needs cniVersion 0.4.0 or later.
  case checkUnsupported(network: String, version: String)
  /// CHECK needs the result ADD cached.
  case noCachedResult(network: String, containerID: String)
  /// A file or process operation of the runtime itself failed.
  case system(String)

  public var description: String {
    switch self {
    case .invalidConfig(let file, let reason):
      return "invalid CNI network configuration \(file): \(reason)"
    case .noNetwork(let reason):
      return "no CNI network available: \(reason)"
    case .invalidArgument(let message):
      return message
    case .pluginNotFound(let plugin, let network, let searched):
      let dirs = searched.isEmpty ? "(no plugin directories configured)" : searched.joined(separator: ", ")
      return "CNI plugin \"\(plugin)\" of network \"\(network)\" not found in \(dirs); install it or set plugin_dirs"
    case .pluginFailed(let failure):
      return failure.description
    case .pluginTimedOut(let plugin, let network, let command, let seconds):
      return "CNI plugin \"\(plugin)\" of network \"\(network)\" did not finish \(command) within \(seconds)s and was killed"
    case .invalidResult(let plugin, let network, let reason):
      return "CNI plugin \"\(plugin)\" of network \"\(network)\" returned an invalid result: \(reason)"
    case .checkUnsupported(let network, let version):
      return "CNI network \"\(network)\" has cniVersion \(version); CHECK needs 0.4.0 or later"
    case .noCachedResult(let network, let containerID):
      return "no cached CNI result for network \"\(network)\" and container \(containerID); was it added?"
    case .system(let message):
      return message
    }
  }
}

/// A plugin's error: its exit status, and its error result (CNI spec
/// "Error" object: code, msg, details) when it printed one on stdout.
public struct CNIPluginFailure: Sendable, Equatable, CustomStringConvertible {
  public var plugin: String
  public var network: String
  /// ADD, DEL or CHECK.
  public var command: String
  public var exitStatus: Int32
  /// The spec's error code (1..99 reserved by CNI: 1 incompatible version,
  /// 2 unsupported field, 3 unknown container, 4 invalid env, 5 I/O, 6
  /// decoding, 7 invalid network config, 11 try again later), or nil when
  /// the plugin printed no error result.
  public var code: Int?
  public var message: String
  public var details: String
  /// The last lines the plugin wrote to stderr.
  public var stderr: String

  public init(plugin: String, network: String, command: String, exitStatus: Int32, code: Int?, message: String, details: String, stderr: String) {
    self.plugin = plugin
    self.network = network
    self.command = command
    self.exitStatus = exitStatus
    self.code = code
    self.message = message
    self.details = details
    self.stderr = stderr
  }

  public var description: String {
    var text = "CNI plugin \"\(plugin)\" of network \"\(network)\" failed (\(command))"
    if !message.isEmpty { text += ": " + message }
    if !details.isEmpty { text += " (" + details + ")" }
    if let code { text += " [code \(code)]" }
    if message.isEmpty && details.isEmpty {
      text += ": exit status \(exitStatus)"
      if !stderr.isEmpty { text += ": " + stderr }
    }
    return text
  }
}
