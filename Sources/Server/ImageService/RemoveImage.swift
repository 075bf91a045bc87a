import CRIAPI
import GRPCCore
import Logging
import OCI
import Registry
import Storage

extension CRIImageService {
  public func removeImage(
    request: Runtime_V1_RemoveImageRequest,
    context: GRPCCore.ServerContext
  ) async throws -> Runtime_V1_RemoveImageResponse {
    let images = daemon.images
    let name = request.image.image
    // Removing what is not there succeeds: the CRI call is idempotent.
    guard let record = try images.lookUp(name) else { return Runtime_V1_RemoveImageResponse() }
    // Pods' infra containers use the pause image until the pod is removed.
    let users = daemon.containers.supervisor.index.all.map(\.record).filter { $0.imageID == record.id.hex }.map(\.id)
      + daemon.pods.supervisor.index.all.map(\.record).filter { $0.infra?.imageID == record.id.hex }.map(\.id)
    do {
      try await images.remove(record, as: name, usedBy: users, logger: daemon.logger)
    } catch {
      throw CRIError.image(error)
    }
    return Runtime_V1_RemoveImageResponse()
  }
}

extension ImageContext {
  /// Removes an image, or only the tag it was named by when it has others
  /// (as CRI-O does), then the layers and blobs no image uses any more.
  /// `usedBy`: the containers made from it, which only an untag leaves alone.
  func remove(_ record: ImageRecord, as name: String, usedBy containers: [String], logger: Logging.Logger) async throws {
    // The tag the request named, if it named one ("busybox" names
    // docker.io/library/busybox:latest through the search registries).
    let tag = record.repoTags.first { $0 == name }
      ?? ((try? sources.registries.candidates(for: name)) ?? []).map(\.description).first { record.repoTags.contains($0) }
    if let tag, record.repoTags.count > 1 {
      _ = try records.removeName(tag, from: record.id)
      logger.info("Untagged image", metadata: ["tag": "\(tag)", "id": "\(record.id.hex)"])
      return
    }
    if let user = containers.first {
      throw CRIError.failedPrecondition(
        "image \(record.id.short) is in use by container \(user.prefix(12)) (\(containers.count) in all); remove those containers first")
    }
    try records.delete(id: record.id)
    _ = try await puller.leases.removeUnused(record.layers, records: records, layers: layers)
    blobs.remove(record.manifestDigest)
    blobs.remove(record.id)
    logger.info("Removed image", metadata: ["id": "\(record.id.hex)", "tags": "\(record.repoTags)"])
  }
}
