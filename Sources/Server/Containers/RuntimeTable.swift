import Config
import Logging
import Runtime
import Synchronization

/// One runtime per handler of `[crio.runtime.runtimes]`. SIGHUP may add
/// handlers (as CRI-O); a handler already in use keeps its runtime until
/// a restart, since its containers were made with it.
final class RuntimeTable: Sendable {
  private let table: Mutex<[String: any ContainerRuntime]>

  init(_ runtimes: [String: any ContainerRuntime] = [:]) {
    table = Mutex(runtimes)
  }

  subscript(handler: String) -> (any ContainerRuntime)? {
    table.withLock { $0[handler] }
  }

  /// Every handler's runtime, as now configured.
  var all: [String: any ContainerRuntime] { table.withLock { $0 } }

  /// Adds the runtimes of handlers not configured yet; returns their names.
  func add(_ runtimes: [String: any ContainerRuntime]) -> [String] {
    table.withLock { table in
      let added = runtimes.keys.filter { table[$0] == nil }.sorted()
      for name in added { table[name] = runtimes[name] }
      return added
    }
  }

  /// conmon + runc for runtime_type "oci", the pod monitor + runc for
  /// "pod"; a VM (shim v2) handler is refused, since it would otherwise run
  /// as runc, silently.
  static func runtime(named name: String, handler: RuntimeHandler, config: CrioConfig, logger: Logger) throws -> any ContainerRuntime {
    let podMonitor = handler.runtimeType == "pod"
    guard handler.runtimeType.isEmpty || handler.runtimeType == "oci" || podMonitor else {
      throw DaemonError.unsupported(
        "[crio.runtime.runtimes.\(name)] runtime_type = \"\(handler.runtimeType)\" is not supported by this daemon yet; "
          + "use runtime_type = \"oci\" (runc-like runtimes under conmon) or \"pod\" (under a pod monitor)")
    }
    // The pod monitor writes the CRI log file alone: journald copies are conmon's.
    if podMonitor && config.runtime.logToJournald {
      throw DaemonError.unsupported(
        "[crio.runtime] log_to_journald = true is not supported with the pod monitor of [crio.runtime.runtimes.\(name)] "
          + "(runtime_type = \"pod\"); use runtime_type = \"oci\" for journald logging")
    }
    let runtimePath = handler.runtimePath.isEmpty ? ContainerContext.lookUp(name) : handler.runtimePath
    // monitor_path: conmon, or for "pod" the pod monitor (crio-monitor beside crio).
    let conmonPath = !handler.monitorPath.isEmpty
      ? handler.monitorPath : podMonitor ? PodMonitorRuntime.defaultMonitorPath : ContainerContext.lookUp("conmon")
    var handlerConfig = RuntimeHandlerConfig(
      runtimePath: runtimePath, runtimeRoot: handler.resolvedRuntimeRoot(handlerName: name), conmonPath: conmonPath,
      exitsDir: config.runtime.containerExitsDir, attachSocketDir: config.runtime.containerAttachSocketDir,
      logSizeMax: Int64(config.runtime.logSizeMax))
    handlerConfig.monitorEnvironment = handler.monitorEnv
    handlerConfig.noPivot = config.runtime.noPivot
    handlerConfig.logToJournald = config.runtime.logToJournald
    handlerConfig.killWaitTimeout = .seconds(config.runtime.ctrStopTimeout)
    return podMonitor ? PodMonitorRuntime(config: handlerConfig, logger: logger) : ConmonRuntime(config: handlerConfig, logger: logger)
  }
}
