import Config
import GRDB
import Logging
import PodInit
import PodNetwork
import Support

#if canImport(Glibc)
import Glibc
#endif

/// What the pod RPCs share: the pod records, the namespace pinner and the
/// in-flight creations (so a kubelet retry joins the creation it retries).
final class PodContext: Sendable {
  let store: PodStore
  let pinner: NamespacePinner
  let creations = CreationRetries()
  let podsDirectory: String
  let namespacesDirectory: String
  /// The read-only root of pod inits (shared PID namespaces): the init
  /// executable alone.
  let initRoot: String

  init(config: CrioConfig, database: DatabasePool, logger: Logger) async throws {
    store = try PodStore(database: database, kind: "pod sandbox")
    pinner = NamespacePinner(helper: NamespacePinner.currentExecutable())
    podsDirectory = config.runroot + "/pods"
    namespacesDirectory = config.runtime.namespacesDir
    initRoot = config.runroot + "/pod-init"
    try PodInitBinary.installRoot(at: initRoot)
    // After a reboot the pins (mounts under a tmpfs) are gone: those pods
    // are no longer ready, though their records stay for kubelet to remove.
    for var pod in await store.all() where pod.state == .ready {
      if let network = pod.namespaces.network, Files.kind(of: network) == .missing {
        pod.state = .notReady
        pod.namespaces = PinnedNamespaces()
        try await store.save(pod)
        logger.warning("Pod lost its namespaces (reboot?); marked not ready", metadata: ["pod": "\(pod.id)"])
      }
    }
  }

  /// A new 64-hex-digit ID, as CRI-O and containerd make them.
  static func newID() -> String {
    var generator = SystemRandomNumberGenerator()
    return (0..<4).map { _ in
      let hex = String(generator.next() as UInt64, radix: 16)
      return String(repeating: "0", count: 16 - hex.count) + hex
    }.joined()
  }
}
