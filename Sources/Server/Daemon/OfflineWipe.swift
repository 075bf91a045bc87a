import Config
import Logging
import Support

/// `crio wipe [--force]`, as CRI-O 1.26's (cmd/crio/wipe.go), run while no
/// daemon serves the socket: it opens the same stores and journal a
/// starting daemon opens, recovers them the same way, and wipes through
/// the daemon's own removal paths.
public enum OfflineWipe {
  /// Returns what it did, one line for the operator.
  public static func run(config: CrioConfig, force: Bool, logger: Logger) async throws -> String {
    var containers = true
    var images = Wipe.Images.ofContainers
    var reasons = ["--force"]
    if !force {
      let reboot = VersionFile.wipeReason(config.versionFile)
      let upgrade = VersionFile.wipeReason(config.versionFilePersist)
      containers = reboot != nil
      images = upgrade != nil ? .ofContainers : .none
      reasons = [reboot, upgrade].compactMap { $0 }
    }
    // After a reboot whose shutdown was not clean, storage may hold what
    // was never synced: CRI-O removes all of it; this removes every pod,
    // container and image through the daemon's paths.
    if containers && CleanShutdown(config: config).lastStopWasUnclean {
      images = .all
      reasons.append("\(config.cleanShutdownFile) is missing: the last daemon did not stop cleanly")
    } else if config.internalWipe && !force {
      return "internal_wipe is set: the daemon wipes at its next start what the version files ask for; nothing to do here"
    } else if !containers {
      return "Version unchanged and node not rebooted; no wipe needed"
    }
    guard Files.kind(of: config.root) == .directory else {
      return "Nothing to wipe: \(config.root) does not exist"
    }
    if UnixSocket.isAnswering(config.api.listen) {
      throw DaemonError.alreadyRunning(path: config.api.listen)
    }
    logger.info("Wiping", metadata: ["reasons": "\(reasons)", "images": "\(images)"])
    let context = try await DaemonContext(config: config, logger: logger)
    let removed = try await withCleanUp {
      let exits = try ExitMonitor(supervisor: context.containers.supervisor, directory: config.runtime.containerExitsDir)
      try await Recovery(daemon: context).run()
      // Removing a running container waits for the monitor to see it exit.
      let exitWatching = Task { await exits.run() }
      defer { exitWatching.cancel() }
      return await Wipe(daemon: context).run(images: images)
    } cleanUp: {
      await context.images.shutdown()
    }
    let why = reasons.joined(separator: "; ")
    return removed.isEmpty
      ? "Nothing to wipe (\(why))"
      : "Wiped \(removed.pods) pods, \(removed.containers) containers and \(removed.images) images (\(why))"
  }
}
