import Logging
import OCI
import Storage

/// After an unclean stop (`clean_shutdown_file` missing): CRI-O's `crio
/// wipe` removes its whole storage; this daemon checks its own and removes
/// only what is damaged, which for this layout means:
/// - an unpacked layer whose directory lost its record (`layer.json`) or
///   its `diff` directory, or that the metadata database names but the
///   disk does not have (writes the stop did not sync);
/// - every image with such a layer (its root filesystem would be wrong),
///   and the containers made from it, which would run on a broken lower
///   layer.
/// The metadata database itself is SQLite in WAL mode, which survives a
/// power cut by design; blobs appear only by an atomic link of a verified
/// file, and staging in `tmp` is emptied at every start.
struct StorageCheck {
  let daemon: DaemonContext

  struct Removed: Equatable {
    var layers: [Digest] = []
    var images: [Digest] = []
    var containers: [String] = []
  }

  func run() async -> Removed {
    let images = daemon.images
    let logger = daemon.logger
    var removed = Removed()
    var intact: [Digest: Bool] = [:]
    func isIntact(_ chain: Digest) -> Bool {
      if let known = intact[chain] { return known }
      let whole = images.layers.isIntact(chainID: chain)
      intact[chain] = whole
      return whole
    }
    let records = (try? images.records.list()) ?? []
    let damaged = records.filter { !$0.layers.allSatisfy(isIntact) }
    let damagedIDs = Set(damaged.map(\.id.hex))
    for owner in daemon.containers.supervisor.index.all where damagedIDs.contains(owner.record.imageID) {
      do {
        try await daemon.containers.supervisor.remove(owner)
        removed.containers.append(owner.id)
      } catch {
        logger.warning("Storage check: cannot remove a container of a damaged image", metadata: ["id": "\(owner.id)", "error": "\(error)"])
      }
    }
    for record in damaged {
      do {
        try await images.remove(record, as: record.id.description, usedBy: [], logger: logger)
        removed.images.append(record.id)
      } catch {
        logger.warning("Storage check: cannot remove a damaged image", metadata: ["id": "\(record.id.hex)", "error": "\(error)"])
      }
    }
    // Layers no image holds any more that are damaged or were removed with
    // the images above (their records go too), on disk or in the database.
    let known = Set(images.layers.list() + ((try? images.records.layers()) ?? []).map(\.chainID))
    let referenced = (try? images.records.referencedLayers()) ?? []
    for chain in known.sorted(by: { $0.description < $1.description }) where !referenced.contains(chain) && !images.layers.isIntact(chainID: chain) {
      try? images.layers.remove(chainID: chain)
      try? images.records.deleteLayer(chainID: chain)
      removed.layers.append(chain)
    }
    return removed
  }
}
