import Config
import PodInit
import PodNetwork
import Support

#if canImport(Glibc)
import Glibc
#endif

/// What the pod RPCs share: the pods' supervisor, the namespace pinner and
/// where pods keep their files.
final class PodContext: Sendable {
  let supervisor: PodSupervisor
  let pinner: NamespacePinner
  let podsDirectory: String
  let namespacesDirectory: String
  /// The read-only root of pod inits (shared PID namespaces): the init
  /// executable alone.
  let initRoot: String

  init(config: CrioConfig, supervisor: PodSupervisor) throws {
    self.supervisor = supervisor
    pinner = NamespacePinner(helper: NamespacePinner.currentExecutable())
    podsDirectory = config.runroot + "/pods"
    namespacesDirectory = config.runtime.namespacesDir
    initRoot = config.runroot + "/pod-init"
    if let refusal = InfraCPUSet.refusal(config.runtime.infraCtrCpuset, online: try? Files.read("/sys/devices/system/cpu/online")) {
      throw DaemonError.unsupported(refusal)
    }
    try PodInitBinary.installRoot(at: initRoot)
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
