import Config
import Logging
import OCI
import Registry
import Storage
import Support
import Synchronization

/// Everything the image RPCs share: where images come from (registries.conf,
/// policy.json, the registry client) and where they go (blobs, layers, records).
public final class ImageContext: Sendable {
  let sources: ImageSources
  let client: RegistryClient
  let blobs: BlobStore
  let layers: LayerStore
  let records: ImageStore
  let puller: ImagePuller
  let logger: Logger
  /// `pinned_images` and the pause image (SIGHUP may change them).
  var pinned: PinnedImages { pinnedImages.withLock { $0 } }
  private let pinnedImages: Mutex<PinnedImages>

  /// Opens the stores under the configured root and reads the registry
  /// configuration; removes what an interrupted pull left behind.
  init(config: CrioConfig, logger: Logger, metrics: CrioMetrics = .disabled) throws {
    self.logger = logger
    pinnedImages = Mutex(PinnedImages(config: config))
    let sources = try ImageSources(config: config.image, logger: logger)
    self.sources = sources
    blobs = try BlobStore(root: config.root, formerDownloadDirectory: config.image.bigFilesTemporaryDir)
    blobs.cleanUpIncomplete()
    layers = try LayerStore(root: config.root)
    // One metadata database: images and layers, and the daemon's own tables.
    records = try ImageStore(path: config.root + "/images.db") { migrations in
      Journal<PodSandbox>.registerMigration(in: &migrations, version: "server-v1")
      Journal<ContainerRecord>.registerMigration(in: &migrations, version: "server-v2")
    }
    let client = RegistryClient(logger: logger)
    self.client = client
    puller = ImagePuller(
      settings: ImagePuller.Settings(config: config.image),
      sources: sources, client: client,
      blobs: blobs, layers: layers, records: records, leases: LayerLeases(), metrics: metrics, logger: logger)
  }

  func setPinned(_ pinned: PinnedImages) {
    pinnedImages.withLock { $0 = pinned }
  }

  /// Stops the registry client's connections.
  public func shutdown() async {
    await client.shutdown()
  }
}
