import Config
import Logging
import PodNetwork
import Runtime
import SpecInjection
import Support

#if canImport(Glibc)
import Glibc
#endif

/// What the container RPCs share: the containers' supervisor, one runtime
/// per handler, and the directories containers live in.
final class ContainerContext: Sendable {
  let supervisor: ContainerSupervisor
  let runtimes: RuntimeTable
  /// Bundles and merged roots (volatile).
  let bundlesDirectory: String
  /// Upper and work directories of the overlays (persistent).
  let layersDirectory: String
  /// The lowest oom_score_adj this daemon may give a container: nil when it
  /// holds CAP_SYS_RESOURCE, else its own value (the kernel refuses lower
  /// ones), so negative requests are clamped instead of failing every pod,
  /// as containerd's restrict_oom_score_adj does.
  let oomScoreAdjFloor: Int?
  /// The host's cgroup hierarchies (nil when none could be found: stats and
  /// cgroup clean-up are then skipped) and how cgroups are named.
  let cgroups: CgroupLayout?
  let cgroupDriver: CgroupDriver
  /// `hooks_dir` and `cdi_spec_dirs`: what host files add to each spec.
  let injections: ContainerSpecInjections
  /// Why pods cannot have their own user namespace here (nil: they can),
  /// found once by trying it on the layers' file system; the probe (a fork
  /// and two mounts) runs beside start-up instead of delaying it.
  private let userNamespaceProbe: Task<String?, Never>

  init(config: CrioConfig, supervisor: ContainerSupervisor, logger: Logger) throws {
    self.supervisor = supervisor
    bundlesDirectory = config.runroot + "/containers"
    layersDirectory = config.root + "/containers"
    var runtimes: [String: any ContainerRuntime] = [:]
    for (name, handler) in config.runtime.runtimes {
      runtimes[name] = try RuntimeTable.runtime(named: name, handler: handler, config: config, logger: logger)
    }
    self.runtimes = RuntimeTable(runtimes)
    // Keys whose effect needs something of the host: refused at start, not at the first container.
    if config.runtime.logToJournald, Files.kind(of: "/run/systemd/journal/socket") == .missing {
      throw DaemonError.unsupported(
        "[crio.runtime] log_to_journald = true, but this host has no journald socket (/run/systemd/journal/socket) for conmon to log to")
    }
    do {
      _ = try ContainerTimezone.zoneFile(config.runtime.timezone)
    } catch {
      throw DaemonError.unsupported("[crio.runtime] timezone: \(error.rpcErrorMessage)")
    }
    do {
      injections = ContainerSpecInjections(
        hooks: try HookRegistry(directories: config.runtime.hooksDir),
        cdi: CDIRegistry(directories: config.runtime.cdiSpecDirs), logger: logger)
    } catch {
      // As CRI-O, whose hooks manager refuses to start on such a file.
      throw DaemonError.configuredFile("[crio.runtime] hooks_dir: \(error); fix or remove the file")
    }
    cgroups = Self.hostCgroups
    cgroupDriver = config.runtime.cgroupManager == .systemd ? .systemd : .cgroupfs
    oomScoreAdjFloor = Self.mayLowerOOMScoreAdj() ? nil : Int(((try? Files.read("/proc/self/oom_score_adj")) ?? "0").trimmingNewline) ?? 0
    for directory in [bundlesDirectory, layersDirectory, config.runtime.containerExitsDir, config.runtime.containerAttachSocketDir] {
      try Files.makeDirectories(directory, mode: 0o700)
    }
    userNamespaceProbe = Task { [layersDirectory] in
      let reason = UserNamespaces.unsupportedReason(directory: layersDirectory)
      if let reason {
        logger.info("Pods cannot have their own user namespace on this host", metadata: ["reason": "\(reason)"])
      }
      return reason
    }
    if oomScoreAdjFloor != nil {
      logger.info("No CAP_SYS_RESOURCE: negative oom_score_adj values are clamped", metadata: ["floor": "\(oomScoreAdjFloor!)"])
    }
  }

  var userNamespacesUnsupported: String? {
    get async { await userNamespaceProbe.value }
  }

  /// Whether CAP_SYS_RESOURCE (bit 24) is in this process's effective set.
  static func mayLowerOOMScoreAdj() -> Bool {
    guard let status = try? Files.read("/proc/self/status"),
      let line = status.split(separator: "\n").first(where: { $0.hasPrefix("CapEff:") }),
      let mask = UInt64(line.split(separator: "\t").last ?? "", radix: 16)
    else { return false }
    return mask & (1 << 24) != 0
  }

  /// The host's cgroup hierarchies, read once (shared with the runtimes).
  static var hostCgroups: CgroupLayout? { CgroupLayout.host }

  /// Whether the kernel's OOM killer struck in the container's cgroup (which
  /// stays until the container is deleted from runc).
  static func oomKilledInCgroup(_ record: ContainerRecord) -> Bool {
    guard let path = record.cgroupPath, let layout = hostCgroups,
      let stats = try? CgroupStats(layout: layout).read(relativePath: path)
    else { return false }
    return (stats.oomKillCount ?? 0) > 0
  }

  /// The paths of a new container.
  func layout(id: String, runtime: any ContainerRuntime) -> ContainerLayout {
    runtime.layout(id: id, bundle: bundlesDirectory + "/" + id)
  }

  func runtime(handler: String) throws(CRIError) -> any ContainerRuntime {
    guard let runtime = runtimes[handler] else {
      throw .failedPrecondition("runtime handler \"\(handler)\" is not configured")
    }
    return runtime
  }

  /// `name` in the directories of PATH (as exec does), else the name itself
  /// (the spawn then fails with a message naming it).
  static func lookUp(_ name: String) -> String {
    let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    for directory in path.split(separator: ":") where access("\(directory)/\(name)", X_OK) == 0 {
      return "\(directory)/\(name)"
    }
    return name
  }
}

extension String {
  fileprivate var trimmingNewline: String {
    hasSuffix("\n") ? String(dropLast()) : self
  }
}
