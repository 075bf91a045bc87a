import Config
import Logging
import Runtime

/// `monitor_cgroup`: where a container's conmon runs, as CRI-O puts it. Under
/// cgroupfs, "pod" (or "") is `<pod cgroup>/crio-conmon-<id>`; under systemd,
/// a slice (or "" = system.slice) holds `crio-conmon-<id>.scope`, and "pod"
/// the pod's slice. CRI-O asks systemd for a transient scope over D-Bus; this
/// daemon makes the scope's cgroup in the slice directly.
enum MonitorCgroup {
  static func path(handler: RuntimeHandler, manager: CgroupManager, podCgroup: String?, containerID: String) -> String? {
    let setting = handler.resolvedMonitorCgroup(for: manager)
    switch manager {
    case .cgroupfs:
      return (podCgroup ?? CgroupNaming.defaultCgroupfsParent) + "/crio-conmon-" + containerID
    case .systemd:
      let parent = setting == "pod" ? podCgroup : try? CgroupNaming.parentFilesystemPath(driver: .systemd, parent: setting)
      guard let parent else { return nil }
      return (parent == "/" ? "" : parent) + "/crio-conmon-" + containerID + ".scope"
    }
  }

  /// Removes a conmon cgroup once its conmon is gone; one still busy is left
  /// for start-up's orphan clean-up, with a warning.
  static func remove(_ path: String, logger: Logger) async {
    do {
      try await ContainerContext.hostCgroups?.removeCgroup(relativePath: path)
    } catch {
      logger.warning("Cannot remove conmon's cgroup", metadata: ["cgroup": "\(path)", "error": "\(error)"])
    }
  }
}
