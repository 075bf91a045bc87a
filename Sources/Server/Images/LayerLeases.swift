import OCI
import Storage

/// Layers a pull is about to use. A pull leases its chain IDs before it looks
/// at what is on disk and releases them once its image record is saved;
/// image removal deletes only unleased layers that no image references, so
/// it can never pull a layer from under a pull in progress. The check and the
/// delete happen in one actor step.
actor LayerLeases {
  private var counts: [Digest: Int] = [:]

  func lease(_ chainIDs: [Digest]) {
    for id in chainIDs { counts[id, default: 0] += 1 }
  }

  func release(_ chainIDs: [Digest]) {
    for id in chainIDs {
      let left = (counts[id] ?? 1) - 1
      counts[id] = left > 0 ? left : nil
    }
  }

  /// Deletes those of `candidates` that are neither leased nor referenced by
  /// any image record; returns what was deleted.
  func removeUnused(_ candidates: [Digest], records: ImageStore, layers: LayerStore) throws -> [Digest] {
    let referenced = try records.referencedLayers()
    var removed: [Digest] = []
    for id in candidates where counts[id] == nil && !referenced.contains(id) {
      try layers.remove(chainID: id)
      removed.append(id)
    }
    return removed
  }
}
