import Support
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Where CNI plugin binaries are looked up (CRI-O's `plugin_dirs`), in order.
public struct CNIPlugins: Sendable, Equatable {
  public let dirs: [String]

  public init(dirs: [String]) {
    self.dirs = dirs
  }

  /// The first executable regular file named `type` in the directories.
  public func find(_ type: String) -> String? {
    guard CNIValidation.isPluginName(type) else { return nil }
    for dir in dirs where !dir.isEmpty {
      let path = (dir.hasSuffix("/") ? dir : dir + "/") + type
      if Files.kind(of: path) == .file && access(path, X_OK) == 0 { return path }
    }
    return nil
  }

  /// CNI_PATH: the directories joined by ':'.
  public var cniPath: String { dirs.joined(separator: ":") }

  /// The plugin types of `network` that are in no directory.
  public func missing(in network: CNINetworkConfig) -> [String] {
    var missing: [String] = []
    for plugin in network.plugins where find(plugin.type) == nil && !missing.contains(plugin.type) {
      missing.append(plugin.type)
    }
    return missing
  }
}

/// A file in the network directory that was skipped, and why.
public struct CNIConfigIssue: Sendable, Equatable, CustomStringConvertible {
  public let file: String
  public let reason: String

  public init(file: String, reason: String) {
    self.file = file
    self.reason = reason
  }

  public var description: String { "\(file): \(reason)" }
}

/// The networks of one load of the network directory.
public struct CNINetworkSet: Sendable, Equatable {
  public let directory: String
  /// Valid networks, in file name order; the first of a name wins.
  public let networks: [CNINetworkConfig]
  /// Files skipped and why (for Status and the log).
  public let problems: [CNIConfigIssue]
  /// `cni_default_network` as configured ("" = the first network).
  public let defaultName: String
  /// The network pods join: by name when `defaultName` is set, else the first.
  public let defaultNetwork: CNINetworkConfig?

  /// NetworkReady of CRI Status.
  public var ready: Bool { defaultNetwork != nil }

  /// Why the network is not ready (nil when it is), naming the directory
  /// and the problems found, for Status's NetworkReady condition message.
  public var notReadyReason: String? {
    guard defaultNetwork == nil else { return nil }
    var reason: String
    if !defaultName.isEmpty && !networks.isEmpty {
      reason = "the default CNI network \"\(defaultName)\" (cni_default_network) is not among the networks in \(directory): "
        + networks.map(\.name).joined(separator: ", ")
    } else if !defaultName.isEmpty {
      reason = "the default CNI network \"\(defaultName)\" (cni_default_network) has no configuration in \(directory)"
    } else {
      // CRI-O's (and kubelet's) wording, which people search for.
      reason = "No CNI configuration file in \(directory). Has your network provider started?"
    }
    if !problems.isEmpty {
      reason += " (skipped: " + problems.map(\.description).joined(separator: "; ") + ")"
    }
    return reason
  }

  public func network(named name: String) -> CNINetworkConfig? {
    networks.first { $0.name == name }
  }
}

/// Reading the network directory (CRI-O's `network_dir`) the way ocicni
/// does: `.conf`, `.conflist` and `.json` files in lexical order of their
/// names; invalid ones are skipped with a reason.
public enum CNIConfigDirectory {
  public static let extensions = [".conf", ".conflist", ".json"]

  /// Loads every configuration. With `plugins`, a network whose plugin
  /// binaries are missing is skipped too (as ocicni's validation does), so
  /// NetworkReady stays false until they are installed.
  public static func load(dir: String, defaultName: String = "", plugins: CNIPlugins? = nil) -> CNINetworkSet {
    var networks: [CNINetworkConfig] = []
    var problems: [CNIConfigIssue] = []
    let names: [String]
    switch Files.kind(of: dir) {
    case .directory:
      do {
        names = try Files.list(dir)
      } catch {
        problems.append(CNIConfigIssue(file: dir, reason: error.reason))
        names = []
      }
    case .missing:
      names = []
    default:
      problems.append(CNIConfigIssue(file: dir, reason: "not a directory"))
      names = []
    }
    let candidates = names.filter { name in extensions.contains { name.hasSuffix($0) } && !name.hasPrefix(".") }
      .sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    for name in candidates {
      let path = (dir.hasSuffix("/") ? dir : dir + "/") + name
      guard Files.kind(of: path) == .file else {
        if Files.kind(of: path) != .directory {
          problems.append(CNIConfigIssue(file: path, reason: "not a regular file"))
        }
        continue
      }
      let text: String
      do {
        text = try Files.read(path)
      } catch {
        problems.append(CNIConfigIssue(file: path, reason: error.reason))
        continue
      }
      let network: CNINetworkConfig
      do {
        network = try CNINetworkConfig(fileContents: text, file: path)
      } catch {
        if case .invalidConfig(_, let reason) = error {
          problems.append(CNIConfigIssue(file: path, reason: reason))
        } else {
          problems.append(CNIConfigIssue(file: path, reason: error.description))
        }
        continue
      }
      if let first = networks.first(where: { $0.name == network.name }) {
        problems.append(CNIConfigIssue(file: path, reason: "network \"\(network.name)\" is already defined by \(first.file ?? "another file")"))
        continue
      }
      if let plugins {
        let missing = plugins.missing(in: network)
        if !missing.isEmpty {
          let dirs = plugins.dirs.isEmpty ? "(no plugin directories)" : plugins.dirs.joined(separator: ", ")
          problems.append(CNIConfigIssue(
            file: path, reason: "plugin\(missing.count > 1 ? "s" : "") \(missing.joined(separator: ", ")) not found in \(dirs)"))
          continue
        }
      }
      networks.append(network)
    }
    let defaultNetwork = defaultName.isEmpty ? networks.first : networks.first { $0.name == defaultName }
    return CNINetworkSet(directory: dir, networks: networks, problems: problems, defaultName: defaultName, defaultNetwork: defaultNetwork)
  }
}

/// Keeps the network directory's current state, so a configuration
/// installed after the daemon started takes effect without a restart.
///
/// It re-reads the directory on demand, at most once per `interval`, rather
/// than watching it with inotify: the directory may not exist yet when the
/// daemon starts (inotify cannot watch it then), installers replace files by
/// rename or through symlinked ConfigMap directories (which inotify reports
/// on other paths), and plugin binaries installed later must flip readiness
/// too. Reading a handful of small files once a second on Status or pod
/// creation costs next to nothing and needs no thread or descriptor.
public final class CNIConfigWatcher: Sendable {
  public let networkDir: String
  public let defaultName: String
  public let plugins: CNIPlugins
  public let interval: Duration
  private let state: Mutex<(loaded: ContinuousClock.Instant, set: CNINetworkSet)?> = Mutex(nil)

  public init(networkDir: String, defaultName: String = "", plugins: CNIPlugins, interval: Duration = .seconds(1)) {
    self.networkDir = networkDir
    self.defaultName = defaultName
    self.plugins = plugins
    self.interval = interval
  }

  /// The current networks, re-read when the last read is older than `interval`.
  public func current() -> CNINetworkSet {
    let now = ContinuousClock.now
    if let cached = state.withLock({ $0 }), now - cached.loaded < interval {
      return cached.set
    }
    return reload()
  }

  /// Re-reads the directory now.
  @discardableResult
  public func reload() -> CNINetworkSet {
    let set = CNIConfigDirectory.load(dir: networkDir, defaultName: defaultName, plugins: plugins)
    let now = ContinuousClock.now
    state.withLock { $0 = (now, set) }
    return set
  }
}
