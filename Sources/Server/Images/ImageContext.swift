import Config
import Logging
import OCI
import Registry
import Storage
import Support

/// Everything the image RPCs share: where images come from (registries.conf,
/// policy.json, the registry client) and where they go (blobs, layers, records).
public final class ImageContext: Sendable {
  let registries: RegistriesConf
  let policy: SignaturePolicy
  let client: RegistryClient
  let blobs: BlobStore
  let layers: LayerStore
  let records: ImageStore
  let puller: ImagePuller
  let logger: Logger
  /// `pinned_images` and the pause image.
  let pinned: PinnedImages

  /// Opens the stores under the configured root and reads the registry
  /// configuration; removes what an interrupted pull left behind.
  init(config: CrioConfig, logger: Logger, metrics: CrioMetrics = .disabled) throws {
    self.logger = logger
    pinned = PinnedImages(config: config)
    registries = try RegistriesConf.load(path: config.image.registriesConf, dropInDir: config.image.registriesConfDir)
    let policyPath = config.image.signaturePolicy.isEmpty ? "/etc/containers/policy.json" : config.image.signaturePolicy
    policy = try ImageContext.loadPolicy(path: policyPath, explicit: !config.image.signaturePolicy.isEmpty, logger: logger)
    blobs = try BlobStore(root: config.root)
    blobs.cleanUpIncomplete()
    layers = try LayerStore(root: config.root)
    // One metadata database: images and layers, and the daemon's own tables.
    records = try ImageStore(path: config.root + "/images.db") { migrator in
      Journal<PodSandbox>.registerMigration(in: &migrator, version: "server-v1")
      Journal<ContainerRecord>.registerMigration(in: &migrator, version: "server-v2")
    }
    let client = RegistryClient(logger: logger)
    self.client = client
    puller = ImagePuller(
      settings: ImagePuller.Settings(config: config.image),
      registries: registries, policy: policy, client: client,
      blobs: blobs, layers: layers, records: records, leases: LayerLeases(), metrics: metrics, logger: logger)
  }

  /// Stops the registry client's connections.
  public func shutdown() async {
    await client.shutdown()
  }

  /// CRI-O refuses to start without a policy; a node without
  /// /etc/containers/policy.json (no containers-common package) is common,
  /// so the default path being absent means "accept anything" with a warning,
  /// while an explicitly configured file must exist.
  private static func loadPolicy(path: String, explicit: Bool, logger: Logger) throws -> SignaturePolicy {
    do {
      return try SignaturePolicy.load(path: path)
    } catch {
      guard !explicit, Files.kind(of: path) == .missing else { throw error }
      logger.warning("No signature policy; accepting any image", metadata: ["policy": "\(path)"])
      return .acceptAnything
    }
  }
}
