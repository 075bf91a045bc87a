import Config
import FoundationEssentials
import Logging
import OCI
import Registry
import Storage
import Support

/// Pulls images: resolves the name (registries.conf), checks policy, fetches
/// the manifest (picking the node's platform from an index), the config and
/// the layers (in parallel, bounded, each layer once however many pulls want
/// it), unpacks them and records the image. Nothing is recorded until every
/// layer is in place, so an interrupted pull leaves no half-visible image.
final class ImagePuller: Sendable {
  struct Settings: Sendable {
    var insecureRegistries: [String]
    var maxParallelDownloads: Int
    var progressTimeout: Duration?
    /// `global_auth_file`: credentials for pulls whose request has none.
    var globalAuthFile: String

    init(config: ImageConfig) {
      insecureRegistries = config.insecureRegistries
      globalAuthFile = config.globalAuthFile
      maxParallelDownloads = max(1, config.maxParallelDownloads)
      // "0s" (CRI-O's default) means no limit.
      let timeout = config.pullProgressTimeoutDuration
      progressTimeout = timeout > .zero ? timeout : nil
    }
  }

  private let settings: Settings
  private let sources: ImageSources
  private let client: RegistryClient
  private let blobs: BlobStore
  private let layers: LayerStore
  private let records: ImageStore
  private let logger: Logger
  private let metrics: CrioMetrics
  private let pulls = SharedWork<String, (ImageRecord, Int64)>()
  private let layerWork = SharedWork<Digest, UnpackedLayer>()
  let leases: LayerLeases

  init(
    settings: Settings, sources: ImageSources, client: RegistryClient,
    blobs: BlobStore, layers: LayerStore, records: ImageStore, leases: LayerLeases, metrics: CrioMetrics = .disabled,
    logger: Logger
  ) {
    self.leases = leases
    self.metrics = metrics
    self.settings = settings
    self.sources = sources
    self.client = client
    self.blobs = blobs
    self.layers = layers
    self.records = records
    self.logger = logger
  }

  /// Pulls `name` (as the user typed it) and returns the stored image;
  /// `namespace` is the pod's, for its own signature policy. `authFile`:
  /// where credentials the request lacks come from, when not
  /// `global_auth_file` (the pause image's `pause_image_auth_file`).
  func pull(_ name: String, credentials: Credentials?, namespace: String? = nil, authFile: String? = nil) async throws -> ImageRecord {
    let started = ContinuousClock.now
    do {
      let (record, downloaded) = try await pullCandidates(
        name, credentials: credentials, namespace: namespace, authFile: authFile ?? settings.globalAuthFile)
      metrics.recordPullSuccess(image: name, downloaded: downloaded, duration: ContinuousClock.now - started)
      return record
    } catch {
      metrics.recordPullFailure(image: name, reason: PullFailureReason.label(for: error))
      throw error
    }
  }

  /// The image and the bytes of layers this pull found missing.
  private func pullCandidates(
    _ name: String, credentials: Credentials?, namespace: String?, authFile: String
  ) async throws -> (ImageRecord, Int64) {
    let registries = sources.registries
    let policy = try sources.policy(namespace: namespace)
    let candidates = try registries.candidates(for: name)
    var failures: [String] = []
    for reference in candidates {
      if case .reject(let reason) = policy.evaluate(reference) {
        throw RegistryError.rejectedByPolicy(reference.description, reason: reason)
      }
      do {
        // Concurrent pulls of one reference share the work (and its result).
        // No credentials in the request: those the auth file has for the
        // reference, read at each pull (a rotated file counts at once).
        let credentials = try credentials ?? AuthFile.load(path: authFile).credentials(for: reference)
        return try await pulls.run(reference.description) { [self] in
          try await pull(reference, credentials: credentials, registries: registries)
        }
      } catch let error as RegistryError where candidates.count > 1 && error.triesNextCandidate {
        failures.append("\(reference): \(error)")
        continue
      }
    }
    throw RegistryError.notFound(what: "image \"\(name)\" in any search registry (\(failures.joined(separator: "; ")))")
  }

  private func pull(
    _ reference: ImageReference, credentials: Credentials?, registries: RegistriesConf
  ) async throws -> (ImageRecord, Int64) {
    let started = ContinuousClock.now
    logger.info("Pulling image", metadata: ["image": "\(reference)"])
    let endpoints = try registries.endpoints(for: reference, extraInsecure: settings.insecureRegistries)
    var lastError: (any Error)?
    for endpoint in endpoints {
      do {
        let (record, downloaded) = try await pull(reference, from: endpoint, credentials: credentials)
        logger.info("Pulled image", metadata: [
          "image": "\(reference)", "id": "\(record.id.hex)", "from": "\(endpoint.host)",
          "duration": "\(ContinuousClock.now - started)",
        ])
        return (record, downloaded)
      } catch let error as RegistryError where endpoint.isMirror {
        // A mirror that fails is skipped, as containers/image does.
        logger.warning("Mirror failed; trying the next source", metadata: ["mirror": "\(endpoint.host)", "error": "\(error)"])
        lastError = error
      }
    }
    throw lastError ?? RegistryError.unavailable(host: reference.registry, detail: "no endpoint to pull from")
  }

  private func pull(
    _ reference: ImageReference, from endpoint: Endpoint, credentials: Credentials?
  ) async throws -> (ImageRecord, downloaded: Int64) {
    var fetched = try await client.fetchManifest(endpoint, reference: reference.tagOrDigest, credentials: credentials)
    if MediaType.isSchema1(fetched.mediaType) {
      throw OCIError.unsupportedMediaType(fetched.mediaType)
    }
    if MediaType.isIndex(fetched.mediaType) {
      let index = try OCIJSON.decode(ImageIndex.self, from: fetched.bytes, kind: "image index")
      let chosen = try Platform.select(from: index.manifests)
      fetched = try await client.fetchManifest(endpoint, reference: chosen.digest.description, credentials: credentials)
    }
    guard MediaType.isManifest(fetched.mediaType) else {
      throw OCIError.unsupportedMediaType(fetched.mediaType)
    }
    let manifest = try OCIJSON.decode(ImageManifest.self, from: fetched.bytes, kind: "image manifest")
    let configBytes = try await client.fetchBlobBytes(endpoint, digest: manifest.config.digest, credentials: credentials)
    let config = try OCIJSON.decode(ImageConfiguration.self, from: configBytes, kind: "image config")
    guard config.rootfs.diffIDs.count == manifest.layers.count else {
      throw OCIError.invalidDocument(
        kind: "image", reason: "the manifest has \(manifest.layers.count) layers but the config lists \(config.rootfs.diffIDs.count) diff IDs")
    }
    let chain = chainIDs(of: config.rootfs.diffIDs)
    let imageSize = manifest.layers.reduce(Int64(configBytes.count)) { $0 + $1.size }
    let layerJobs = manifest.layers.enumerated().map { index, descriptor in
      LayerJob(
        image: reference.description, imageSize: imageSize, descriptor: descriptor,
        diffID: config.rootfs.diffIDs[index], chainID: chain[index])
    }
    if (try? records.image(id: manifest.config.digest)) != nil {
      // CRI-O's "skipped" pull: the image is stored already.
      metrics.recordSkippedPull(image: reference.description, size: imageSize)
    }
    // Leased until the record that references them is saved (see LayerLeases).
    await leases.lease(chain)
    do {
      let downloaded = try await fetchLayers(layerJobs, endpoint: endpoint, credentials: credentials)
      let record = try await Blocking.run { [self, fetched] in
        try save(reference: reference, manifest: manifest, fetched: fetched, configBytes: configBytes, chain: chain)
      }
      await leases.release(chain)
      return (record, downloaded)
    } catch {
      await leases.release(chain)
      // Layers this failed pull unpacked and nothing else uses are garbage.
      do {
        _ = try await leases.removeUnused(chain, records: records, layers: layers)
      } catch let cleanup {
        logger.warning("Could not remove the layers of a failed pull", metadata: ["error": "\(cleanup)"])
      }
      throw error
    }
  }

  /// Records the image once every layer is in place.
  private func save(
    reference: ImageReference, manifest: ImageManifest, fetched: FetchedManifest, configBytes: [UInt8], chain: [Digest]
  ) throws -> ImageRecord {
    try blobs.write(fetched.bytes, as: fetched.digest)
    try blobs.write(configBytes, as: manifest.config.digest)
    var record = ImageRecord(
      id: manifest.config.digest,
      repoTags: [],
      repoDigests: ["\(reference.name)@\(fetched.digest)"],
      size: UInt64(manifest.layers.reduce(Int64(configBytes.count)) { $0 + $1.size }),
      manifestDigest: fetched.digest,
      config: configBytes,
      layers: chain,
      pulledAt: Date()
    )
    if let tag = reference.tag { record.repoTags = ["\(reference.name):\(tag)"] }
    // save() adds these names to those the image already has and takes a
    // moved tag away from the image that had it.
    return try records.save(record)
  }

  private struct LayerJob: Sendable {
    /// The image being pulled, as metrics name it, and its size.
    let image: String
    let imageSize: Int64
    let descriptor: Descriptor
    let diffID: Digest
    let chainID: Digest
  }

  /// Downloads and unpacks the layers not yet on disk, at most
  /// `maxParallelDownloads` at a time; returns their compressed size.
  private func fetchLayers(_ jobs: [LayerJob], endpoint: Endpoint, credentials: Credentials?) async throws -> Int64 {
    let missing = jobs.filter { !layers.contains(chainID: $0.chainID) }
    for job in jobs where !missing.contains(where: { $0.chainID == job.chainID }) {
      metrics.recordReusedLayer(image: job.image, digest: job.descriptor.digest.description)
    }
    try await withThrowingTaskGroup(of: Void.self) { group in
      var next = 0
      func startNext() {
        guard next < missing.count else { return }
        let job = missing[next]
        next += 1
        group.addTask { [self] in
          _ = try await layerWork.run(job.chainID) { [self] in
            try await fetchLayer(job, endpoint: endpoint, credentials: credentials)
          }
        }
      }
      for _ in 0..<settings.maxParallelDownloads { startNext() }
      while try await group.next() != nil { startNext() }
    }
    return missing.reduce(0) { $0 + $1.descriptor.size }
  }

  private func fetchLayer(_ job: LayerJob, endpoint: Endpoint, credentials: Credentials?) async throws -> UnpackedLayer {
    guard MediaType.layerCompression(job.descriptor.mediaType) != nil else {
      throw OCIError.unsupportedMediaType(job.descriptor.mediaType)
    }
    // The layer is unpacked as it arrives, never staged on disk: the
    // unpacker keeps it only once the download ended with a matching digest.
    let pipe = BytePipe()
    let layers = self.layers
    async let unpacked = Blocking.runOnOwnThread { () -> Result<UnpackedLayer, StorageError> in
      defer { pipe.abandon() }
      return Result { () throws(StorageError) in try layers.unpack(.stream(pipe), expectedDiffID: job.diffID, chainID: job.chainID) }
    }
    var downloadFailure: RegistryError?
    do {
      try await client.fetchBlob(
        endpoint, digest: job.descriptor.digest, expectedSize: job.descriptor.size, credentials: credentials,
        into: pipe, progressTimeout: settings.progressTimeout)
    } catch {
      downloadFailure = error
    }
    switch await unpacked {
    case .success(let layer):
      // A chain unpacked meanwhile by another pull ends the download early.
      if downloadFailure == nil {
        metrics.recordPulledBlob(
          image: job.image, digest: job.descriptor.digest.description, mediaType: job.descriptor.mediaType,
          size: job.descriptor.size, imageSize: job.imageSize)
      }
      return layer
    case .failure(let unpackFailure):
      // The side that failed first is the cause: a bad download fails the
      // unpack too, a bad archive stops the download.
      if let downloadFailure, !pipe.abandonedFirst { throw downloadFailure }
      throw unpackFailure
    }
  }
}

extension RegistryError {
  /// Errors after which the next unqualified-search registry is worth trying.
  var triesNextCandidate: Bool {
    switch self {
    case .notFound, .unauthorized, .unavailable: true
    default: false
    }
  }
}
