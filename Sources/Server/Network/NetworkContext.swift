import CRIAPI
import Config
import Logging
import PodNetwork

/// The pod network: the CNI configuration (re-read when the directory
/// changes, so a network installed after start takes effect) and the plugin
/// runner with its on-disk result cache (so a DEL after a restart sends what
/// the ADD sent).
final class NetworkContext: Sendable {
  let watcher: CNIConfigWatcher
  let cni: CNIRuntime

  init(config: CrioConfig, logger: Logger) {
    let plugins = CNIPlugins(dirs: config.network.pluginDirs)
    watcher = CNIConfigWatcher(
      networkDir: config.network.networkDir, defaultName: config.network.cniDefaultNetwork, plugins: plugins)
    cni = CNIRuntime(plugins: plugins, cacheDir: config.root + "/cni") { message in
      logger.warning("\(message)")
    }
  }

  /// kubelet's NetworkReady condition.
  var readiness: NetworkReadiness {
    let networks = watcher.current()
    guard !networks.ready else { return .ready }
    return .notReady(
      reason: "NetworkPluginNotReady",
      message: "Network plugin returns error: " + (networks.notReadyReason ?? "no CNI network configured"))
  }

  /// After a restart: CNI CHECK of each ready pod's network (where its
  /// cniVersion allows), so a pod whose network broke while the daemon was
  /// down is named in the log rather than found out by its users.
  func checkRestored(_ pods: [PodSandbox], logger: Logger) async {
    let networks = watcher.current()
    for pod in pods where pod.state == .ready {
      guard let attached = pod.network, let netns = pod.namespaces.network,
        let network = networks.network(named: attached.networkName)
      else { continue }
      do {
        try await cni.check(network: network, pod: Self.podInfo(pod), netnsPath: netns)
        logger.info("Checked pod network", metadata: ["pod": "\(pod.id)", "network": "\(network.name)"])
      } catch .checkUnsupported {
        continue
      } catch {
        logger.warning("Pod network check failed", metadata: ["pod": "\(pod.id)", "network": "\(network.name)", "error": "\(error)"])
      }
    }
  }

  static func podInfo(_ pod: PodSandbox) -> CNIPodInfo {
    let metadata = pod.configMessage.metadata
    return CNIPodInfo(namespace: metadata.namespace, name: metadata.name, id: pod.id, uid: metadata.uid)
  }
}

/// What CNI gave a pod: kept in the pod's record for PodSandboxStatus.
struct PodNetworkStatus: Sendable, Codable, Equatable {
  var networkName: String
  /// IPv4 first, then IPv6, without prefix lengths; loopback left out.
  var ips: [String]
}
