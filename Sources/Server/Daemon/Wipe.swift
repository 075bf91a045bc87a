import Config
import Logging
import OCI
import Storage

/// What CRI-O's wipe removes (cmd/crio/wipe.go, server.go's
/// wipeIfAppropriate), through the same removal paths as the CRI calls:
/// each container as RemoveContainer removes it (runc state, monitor,
/// overlay, bundle, upper layer, exit file, attach link, journal entry),
/// each pod as RemovePodSandbox (network, init, pinned namespaces, shm,
/// cgroup, directory, journal entry), each image as RemoveImage (record,
/// blobs, layers no other image uses).
struct Wipe {
  let daemon: DaemonContext

  /// Which images go with the containers.
  enum Images: Equatable {
    case none
    /// The images the wiped containers were made from (CRI-O's choice:
    /// the kubelet pulls again what it still needs).
    case ofContainers
    /// Every image: storage that may be damaged is not kept at all.
    case all
  }

  struct Plan: Equatable {
    var containers: Bool
    var images: Images
    /// Why, for the log (the version files' findings).
    var reasons: [String]
  }

  /// CRI-O's start-up decision: a changed persistent version (an upgrade)
  /// wipes images and containers; a missing or changed `version_file` (a
  /// reboot) wipes containers.
  static func plan(config: CrioConfig) -> Plan {
    if let upgrade = VersionFile.wipeReason(config.versionFilePersist) {
      return Plan(containers: true, images: .ofContainers, reasons: [upgrade])
    }
    if let reboot = VersionFile.wipeReason(config.versionFile) {
      return Plan(containers: true, images: .none, reasons: [reboot])
    }
    return Plan(containers: false, images: .none, reasons: [])
  }

  struct Removed: Equatable {
    var pods = 0
    var containers = 0
    var images = 0
    var isEmpty: Bool { pods == 0 && containers == 0 && images == 0 }
  }

  /// Removes every pod with its containers and, as `images` says, images.
  /// Best effort, as CRI-O's: what cannot be removed is logged and the rest
  /// goes on (the next start's recovery removes what no record owns).
  func run(images: Images) async -> Removed {
    var removed = Removed()
    let logger = daemon.logger
    let containers = daemon.containers.supervisor
    let usedImages = Set(containers.index.all.map(\.record.imageID))
    // Containers first, at once (a pod's stop would give each its grace
    // period), then their pods.
    for owner in containers.index.all {
      do {
        try await containers.remove(owner)
        removed.containers += 1
      } catch {
        logger.warning("Wipe: cannot remove a container", metadata: ["id": "\(owner.id)", "error": "\(error)"])
      }
    }
    for owner in daemon.pods.supervisor.index.all {
      do {
        try await daemon.pods.supervisor.remove(owner)
        removed.pods += 1
      } catch {
        logger.warning("Wipe: cannot remove a pod", metadata: ["id": "\(owner.id)", "error": "\(error)"])
      }
    }
    let doomed: [ImageRecord]
    switch images {
    case .none: doomed = []
    case .ofContainers: doomed = ((try? daemon.images.records.list()) ?? []).filter { usedImages.contains($0.id.hex) }
    case .all: doomed = (try? daemon.images.records.list()) ?? []
    }
    for record in doomed {
      do {
        try await daemon.images.remove(record, as: record.id.description, usedBy: [], logger: logger)
        removed.images += 1
      } catch {
        logger.warning("Wipe: cannot remove an image", metadata: ["id": "\(record.id.hex)", "error": "\(error)"])
      }
    }
    return removed
  }
}

extension Wipe {
  /// At start, after recovery and before the socket is served: an unclean
  /// stop's storage check, then CRI-O's internal wipe when `internal_wipe`
  /// is set and the version files ask for one.
  func atStart(afterUncleanStop unclean: Bool) async {
    let logger = daemon.logger
    if unclean {
      logger.warning("The last daemon did not stop cleanly; checking storage", metadata: ["clean_shutdown_file": "\(daemon.config.cleanShutdownFile)"])
      let removed = await StorageCheck(daemon: daemon).run()
      logger.info(
        "Storage checked", metadata: ["damaged layers": "\(removed.layers.map(\.hex))", "images removed": "\(removed.images.map(\.hex))", "containers removed": "\(removed.containers)"])
    }
    guard daemon.config.internalWipe else { return }
    let plan = Self.plan(config: daemon.config)
    // A first start (no version file yet) with nothing recorded has nothing to wipe.
    guard plan.containers, !daemon.pods.supervisor.index.all.isEmpty || !daemon.containers.supervisor.index.all.isEmpty else { return }
    logger.info("Wiping containers and pods of the previous boot or version", metadata: ["reasons": "\(plan.reasons)", "images": "\(plan.images)"])
    let removed = await run(images: plan.images)
    logger.info("Wiped", metadata: ["pods": "\(removed.pods)", "containers": "\(removed.containers)", "images": "\(removed.images)"])
  }
}
