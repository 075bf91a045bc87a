import OCI
import PodNetwork
import Support

/// A pod's infra (pause) container, run for every pod when
/// `drop_infra_ctr = false`, as CRI-O 1.26 does: `pause_image`'s root file
/// system, `pause_command`, joined to the pod's pinned namespaces, and the
/// PID 1 of the pod's shared PID namespace when it has one. It is a runc
/// container named by the pod's ID (as CRI-O names it), started like the
/// pod init it replaces (no monitor: nobody reads its output, and the pod
/// learns of its end through its PID namespace); kubelet never sees it.
struct PodInfra: Sendable, Equatable, Codable {
  /// Its process (host PID) and PID namespace: it always has a PID
  /// namespace of its own, so a reused PID is never mistaken for it.
  var process: PIDNamespaceInit
  /// The pause image's ID (config digest hex): the image stays in use
  /// until the pod is removed.
  var imageID: String
  /// Where its overlay root is mounted (inside the pod's directory).
  var rootfs: String

  /// The bundle, the overlay's upper and work directories and the mount
  /// point, all inside the pod's directory: a pod's removal removes them,
  /// and start-up after a crash unmounts what a pod no record owns left.
  static func bundle(podDirectory: String) -> String { podDirectory + "/infra" }
  static func rootfs(podDirectory: String) -> String { bundle(podDirectory: podDirectory) + "/rootfs" }
}

/// The pause image's part of `[crio.image]`: what the infra runs, and where
/// the credentials for pulling it come from.
enum PauseImage {
  /// CRI-O's PauseCommand: `pause_command` alone when set (CRI-O's
  /// default is `/pause`, the Kubernetes pause image's binary), else the
  /// image's entrypoint followed by its cmd. It must not exit: the infra
  /// lives as long as the pod.
  static func command(configured: String, image: ContainerDefaults?, imageName: String) throws(CRIError) -> [String] {
    if !configured.isEmpty { return [configured] }
    let command = (image?.entrypoint ?? []) + (image?.cmd ?? [])
    guard !command.isEmpty else {
      throw .failedPrecondition(
        "unable to run pause image \(Quoting.doubleQuoted(imageName)): neither Cmd nor Entrypoint specified; "
          + "set [crio.image] pause_command or use a pause image that names its command")
    }
    return command
  }

  /// Where credentials for pulling the pause image come from:
  /// `pause_image_auth_file` when set (CRI-O puts it in place of the
  /// global one for this pull), else `global_auth_file`, as for any pull.
  static func authFile(pauseImageAuthFile: String, globalAuthFile: String) -> String {
    pauseImageAuthFile.isEmpty ? globalAuthFile : pauseImageAuthFile
  }
}

/// `infra_ctr_cpuset` against the host: CPUs it names that are not online
/// would make runc fail every pod, so start-up refuses them instead.
enum InfraCPUSet {
  /// The CPU numbers of a cpuset list (`0-3,6`); nil when it is not one.
  static func cpus(_ list: String) -> Set<Int>? {
    var cpus: Set<Int> = []
    for item in list.split(separator: ",") {
      let bounds = item.split(separator: "-", omittingEmptySubsequences: false).map { Int($0.filter { !$0.isWhitespace }) }
      guard let low = bounds.first ?? nil, let high = bounds.last ?? nil, bounds.count <= 2, low <= high, high - low < 65536 else {
        return nil
      }
      cpus.formUnion(low...high)
    }
    return cpus
  }

  /// Why `cpuset` cannot be honoured on a host whose online CPUs are
  /// `online` (`/sys/devices/system/cpu/online`), or nil.
  static func refusal(_ cpuset: String, online: String?) -> String? {
    guard !cpuset.isEmpty, let online = online?.filter({ !$0.isWhitespace }), let available = cpus(online), let wanted = cpus(cpuset)
    else { return nil }
    let missing = wanted.subtracting(available).sorted()
    guard !missing.isEmpty else { return nil }
    return "[crio.runtime] infra_ctr_cpuset = \(Quoting.doubleQuoted(cpuset)) names CPUs this host does not have online "
      + "(\(missing.prefix(8).map(String.init).joined(separator: ","))\(missing.count > 8 ? ",…" : ""); online: \(online)); "
      + "infra containers could not run on them"
  }
}
