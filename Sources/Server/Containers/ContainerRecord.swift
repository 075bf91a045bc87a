import CRIAPI
import SwiftProtobuf

/// A container as the daemon keeps it (and persists it): the request, the
/// image, where its bundle, root file system and log are, and what happened
/// to it. The process itself is conmon's and runc's business.
struct ContainerRecord: StoredRecord, Equatable {
  static let table = "containers"

  enum State: String, Sendable, Codable, CaseIterable { case created, running, exited }

  var id: String
  /// The reserved name, `k8s_<container>_<pod>_<namespace>_<uid>_<attempt>`.
  var name: String
  var podID: String
  /// The ContainerConfig as kubelet sent it (protobuf bytes).
  var config: [UInt8]
  /// The image ID (hex) and the name it was asked for by.
  var imageID: String
  var imageRef: String
  var runtimeHandler: String
  /// `<runroot>/containers/<id>`: config.json (the bundle), the merged root.
  var bundle: String
  /// `<root>/containers/<id>`: the overlay's upper and work directories.
  var layerDirectory: String
  var logPath: String
  var state: State
  var pid: Int32
  /// Unix nanoseconds; 0 when it has not happened.
  var createdAt: Int64
  var startedAt: Int64
  var finishedAt: Int64
  var exitCode: Int32
  /// The image's stop signal (number).
  var stopSignal: Int32
  /// The kernel's OOM killer ended it (read from its cgroup when it exited).
  var oomKilled: Bool?
  /// Its pod monitor died and the daemon ended it (runtime_type "pod").
  var monitorLost: Bool? = nil
  /// The resources last set by UpdateContainerResources (protobuf bytes of
  /// LinuxContainerResources); nil: those of the create request.
  var updatedResources: [UInt8]?
  /// Where its cgroup is inside each hierarchy.
  var cgroupPath: String?
  /// The cgroup its conmon was moved into (`monitor_cgroup`), removed with
  /// the container; nil when conmon stayed in the daemon's.
  var monitorCgroupPath: String? = nil
  /// Frozen through the inspection API's `/pause/<id>` (CRI-O's "paused"
  /// state; the CRI knows no such state and sees it running).
  var paused: Bool?

  /// CRI-O's name for the state: created, running, paused or stopped.
  var crioStatus: String {
    switch state {
    case .created: paused == true ? "paused" : "created"
    case .running: paused == true ? "paused" : "running"
    case .exited: "stopped"
    }
  }

  var configMessage: Runtime_V1_ContainerConfig {
    (try? Runtime_V1_ContainerConfig(serializedBytes: config)) ?? Runtime_V1_ContainerConfig()
  }

  /// The resources in force: the last update's, else the create request's.
  var resources: Runtime_V1_LinuxContainerResources {
    if let updatedResources, let updated = try? Runtime_V1_LinuxContainerResources(serializedBytes: updatedResources) {
      return updated
    }
    return configMessage.linux.resources
  }

  var criState: Runtime_V1_ContainerState {
    switch state {
    case .created: .containerCreated
    case .running: .containerRunning
    case .exited: .containerExited
    }
  }

  static func reservedName(_ container: Runtime_V1_ContainerMetadata, pod: Runtime_V1_PodSandboxMetadata) -> String {
    "k8s_\(container.name)_\(pod.name)_\(pod.namespace)_\(pod.uid)_\(container.attempt)"
  }
}
