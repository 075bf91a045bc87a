import Config
import OCI
import Storage

/// The images kubelet's image garbage collection must keep (the CRI's
/// `pinned`): those `pinned_images` names, exactly or by a pattern ending
/// in `*` (a name prefix), and the pause image, as CRI-O pins it.
struct PinnedImages: Sendable, Equatable {
  private var names: Set<String> = []
  private var prefixes: [String] = []

  init(patterns: [String], pauseImage: String) {
    for pattern in patterns + [pauseImage] where !pattern.isEmpty {
      if pattern.hasSuffix("*") {
        prefixes.append(String(pattern.dropLast()))
      } else {
        names.insert(pattern)
      }
    }
  }

  init(config: CrioConfig) {
    self.init(patterns: config.image.pinnedImages, pauseImage: config.image.pauseImage)
  }

  /// Whether any of the image's names (tags, digests) or its ID is pinned.
  func pins(_ record: ImageRecord) -> Bool {
    let identities = record.repoTags + record.repoDigests + [record.id.hex, record.id.description]
    return identities.contains { name in names.contains(name) || prefixes.contains { name.hasPrefix($0) } }
  }
}
