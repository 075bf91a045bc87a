import BuildInfo
import Config
import Logging
import Support

/// What every CRI handler shares: the configuration the daemon started with,
/// its logger, the runtime-wide state and the image stores.
public final class DaemonContext: Sendable {
  public let config: CrioConfig
  public let logger: Logger
  public let state: RuntimeState
  public let images: ImageContext
  let pods: PodContext
  let containers: ContainerContext
  let network: NetworkContext
  /// The previous CPU reading of each container and pod, for usage rates.
  let stats = CPUUsageRates()

  /// Opens the image stores and reads the registry configuration; throws
  /// (and the daemon does not start) when they cannot be used.
  public init(config: CrioConfig, logger: Logger, state: RuntimeState = RuntimeState()) async throws {
    self.config = config
    self.logger = logger
    self.state = state
    images = try ImageContext(config: config, logger: logger)
    network = NetworkContext(config: config, logger: logger)
    do {
      pods = try await PodContext(config: config, database: images.records.database, logger: logger)
      containers = try ContainerContext(config: config, database: images.records.database, logger: logger)
    } catch {
      await images.shutdown()
      throw error
    }
  }

  /// The `info` map of a verbose Status, as `crictl info` prints it: each value
  /// is a JSON document.
  func verboseInfo() async -> [String: String] {
    let runtime = JSONValue.object([
      ("name", .string(ProjectVersion.runtimeName)),
      ("version", .string(ProjectVersion.version)),
      ("gitCommit", .string(BuildInfo.gitCommit)),
      ("criAPI", .string(ProjectVersion.criAPIRelease)),
      ("podCIDR", .string(await state.podCIDR)),
      ("cgroupDriver", .string(config.runtime.cgroupManager.rawValue)),
      ("defaultRuntime", .string(config.runtime.defaultRuntime)),
    ])
    return ["config": config.renderJSON(), "runtime": runtime.rendered()]
  }

  /// CRI-O's `/info` document, which cAdvisor reads to find container storage.
  func inspectInfo() -> JSONValue {
    .object([
      ("storage_driver", .string(config.storageDriver)),
      ("storage_image", .string("")),
      ("storage_root", .string(config.root)),
      ("cgroup_driver", .string(config.runtime.cgroupManager.rawValue)),
      ("default_id_mappings", .object([("uids", .null), ("gids", .null)])),
    ])
  }
}
