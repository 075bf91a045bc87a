import CRIAPI
import PodNetwork
import Runtime
import SwiftProtobuf

/// A pod sandbox as the daemon keeps it (and persists it): the request it
/// was made from, where its namespaces and files are, and its state. With
/// `drop_infra_ctr` (the default) there is no infra container: the pod is
/// its pinned namespaces, its files and its containers; without, it also
/// has an infra container (`infra`).
struct PodSandbox: StoredRecord, Equatable {
  static let table = "pods"

  enum State: String, Sendable, Codable { case ready, notReady }

  var id: String
  /// The reserved name, `k8s_POD_<name>_<namespace>_<uid>_<attempt>`.
  var name: String
  /// The PodSandboxConfig as kubelet sent it (protobuf bytes).
  var config: [UInt8]
  var runtimeHandler: String
  /// Unix nanoseconds.
  var createdAt: Int64
  var state: State
  var namespaces: PinnedNamespaces
  /// `<runroot>/pods/<id>`: hostname, hosts, resolv.conf, shm.
  var directory: String
  var hostname: String
  /// The tmpfs mounted for /dev/shm, nil when the pod shares the host's IPC.
  var shmPath: String?
  /// The pod's cgroup (its `cgroup_parent`) inside each hierarchy, and
  /// whether this pod made it (it did not exist before), so removing the
  /// pod removes it too. Absent in records of older daemons.
  var cgroupParent: String?
  var ownsCgroupParent: Bool?
  /// Set while the pod is attached to a CNI network (nil for host network).
  var network: PodNetworkStatus?
  /// The log directory the daemon made (`log_dir/<id>`, as CRI-O) because
  /// kubelet named none; removed with the pod. Nil when kubelet named one.
  var ownedLogDirectory: String? = nil
  /// Its infra container (`drop_infra_ctr = false`), kept in the record
  /// until the pod is removed (its image stays in use); absent in records
  /// of pods made without one, and of older daemons.
  var infra: PodInfra? = nil
  /// The cgroup its pod monitor runs in (runtime_type "pod" with a
  /// `monitor_cgroup`), removed when the pod stops; nil otherwise.
  var monitorCgroup: String? = nil

  /// What the pod's runtime knows of it.
  var runtimeContext: PodRuntimeContext {
    PodRuntimeContext(id: id, directory: directory, monitorCgroup: monitorCgroup)
  }

  /// Where the pod's container logs go: kubelet's directory, else the daemon's.
  func logDirectory(defaultRoot: String) -> String {
    let requested = configMessage.logDirectory
    return requested.isEmpty ? ownedLogDirectory ?? defaultRoot + "/" + id : requested
  }

  var configMessage: Runtime_V1_PodSandboxConfig {
    (try? Runtime_V1_PodSandboxConfig(serializedBytes: config)) ?? Runtime_V1_PodSandboxConfig()
  }

  var criState: Runtime_V1_PodSandboxState { state == .ready ? .sandboxReady : .sandboxNotready }

  /// CRI-O's reserved name for a pod's metadata.
  static func reservedName(_ metadata: Runtime_V1_PodSandboxMetadata) -> String {
    "k8s_POD_\(metadata.name)_\(metadata.namespace)_\(metadata.uid)_\(metadata.attempt)"
  }
}
