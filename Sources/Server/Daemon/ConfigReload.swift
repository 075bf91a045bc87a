import Config
import Logging
import Runtime
import SpecInjection

/// SIGHUP: the keys CRI-O reloads while running. A new file that does not
/// load (or whose registries or policy do not) is refused whole and the
/// running configuration kept; otherwise each changed key is applied and
/// logged, and keys that need a restart are named in a warning.
struct ConfigReload {
  let context: DaemonContext
  let levelSwitch: LogLevelSwitch
  let logger: Logger

  /// The keys applied at run time, as CRI-O's `Reload`: log level and
  /// filter, pause image settings, signature policy, registries, the
  /// seccomp and AppArmor defaults, pinned images, CDI directories and the
  /// default runtime (new handlers are added; changed ones need a restart).
  static let reloadable: [(name: String, path: WritableKeyPath<CrioConfig, String> & Sendable)] = [
    ("log_filter", \.runtime.logFilter), ("pause_image", \.image.pauseImage), ("pause_command", \.image.pauseCommand),
    ("pause_image_auth_file", \.image.pauseImageAuthFile), ("signature_policy", \.image.signaturePolicy),
    ("signature_policy_dir", \.image.signaturePolicyDir), ("registries_conf", \.image.registriesConf),
    ("registries_conf_dir", \.image.registriesConfDir), ("seccomp_profile", \.runtime.seccompProfile),
    ("apparmor_profile", \.runtime.apparmorProfile), ("default_runtime", \.runtime.defaultRuntime),
  ]
  static let reloadableLists: [(name: String, path: WritableKeyPath<CrioConfig, [String]> & Sendable)] = [
    ("pinned_images", \.image.pinnedImages), ("cdi_spec_dirs", \.runtime.cdiSpecDirs),
  ]

  func apply(_ fresh: CrioConfig) {
    let running = context.config
    var next = running
    var changed: [String] = []
    if fresh.runtime.logLevel != running.runtime.logLevel {
      next.runtime.logLevel = fresh.runtime.logLevel
      changed.append("log_level")
    }
    for (name, path) in Self.reloadable where fresh[keyPath: path] != running[keyPath: path] {
      next[keyPath: path] = fresh[keyPath: path]
      changed.append(name)
    }
    for (name, path) in Self.reloadableLists where fresh[keyPath: path] != running[keyPath: path] {
      next[keyPath: path] = fresh[keyPath: path]
      changed.append(name)
    }
    var added: [String: any ContainerRuntime] = [:]
    for (name, handler) in fresh.runtime.runtimes where running.runtime.runtimes[name] == nil {
      do {
        added[name] = try RuntimeTable.runtime(named: name, handler: handler, config: fresh, logger: logger)
        next.runtime.runtimes[name] = handler
      } catch {
        logger.error("Configuration reload refused; keeping the running configuration", metadata: ["error": "\(error)"])
        return
      }
    }
    // The registries and policy must load before anything changes.
    do {
      try context.images.sources.reload(next.image)
    } catch {
      logger.error("Configuration reload refused; keeping the running configuration", metadata: ["error": "\(error)"])
      return
    }
    for name in context.containers.runtimes.add(added) {
      logger.info("Added runtime handler", metadata: ["handler": "\(name)"])
    }
    levelSwitch.level = LogLevels.swiftLog(next.runtime.logLevel)
    levelSwitch.filter = next.runtime.logFilter
    context.images.setPinned(PinnedImages(config: next))
    context.containers.injections.cdi.setDirectories(next.runtime.cdiSpecDirs)
    context.apply(next)
    for name in changed {
      logger.info("Reloaded \(name)", metadata: ["key": "\(name)"])
    }
    let needRestart = fresh.differingKeys(from: next)
    if needRestart.isEmpty {
      logger.info("Configuration reloaded")
    } else {
      logger.warning(
        "Configuration reloaded; these changes need a restart to take effect",
        metadata: ["keys": "\(needRestart.joined(separator: ", "))"])
    }
  }
}
