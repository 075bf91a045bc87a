import CSupport
import Config
import Logging
import OCI
import PodNetwork
import Runtime
import Storage
import Support

#if canImport(Glibc)
import Glibc
#endif

/// Start-up after a stop, a crash or a `kill -9` at any instant: the index
/// is rebuilt from the journal, every recorded pod and container is checked
/// against the kernel and the disk (and made whole or marked as it really
/// is), and everything the daemon creates that no record owns is removed
/// and logged once: runc state, mounts, pins, cgroups, directories, exit
/// files, attach links, CNI allocations, monitor processes.
struct Recovery {
  let daemon: DaemonContext

  /// Names are the 64-hex-digit IDs this daemon gives pods and containers:
  /// nothing else in shared directories (namespaces_dir is /var/run by
  /// default, beside `ip netns`'s pins) is ever touched.
  static func isID(_ name: String) -> Bool {
    name.utf8.count == 64 && name.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) }
  }

  func run() async throws {
    let pods = daemon.pods.supervisor
    let containers = daemon.containers.supervisor
    let logger = daemon.logger
    for pod in try pods.journal.load() { pods.restore(pod) }
    // Pod monitors first: one that died has its containers' exits recorded
    // before they are read below; one of a pod no longer ready is ended.
    for owner in pods.index.all {
      guard let runtime = daemon.containers.runtimes[owner.record.runtimeHandler] else { continue }
      if owner.record.state == .ready {
        await runtime.recoverPod(owner.record.runtimeContext)
      } else {
        await runtime.stopPod(owner.record.runtimeContext)
      }
    }
    // What runc still holds state for: a container it does not know (a
    // reboot emptied its root, or it was deleted behind the daemon's back)
    // has no process, whatever the journal says.
    let known = Set(daemon.containers.runtimes.all.values.flatMap { $0.containerIDs() })
    for record in try containers.journal.load() {
      guard pods.index.owner(record.podID) != nil else {
        logger.warning("Container without a pod; removing it", metadata: ["id": "\(record.id)", "pod": "\(record.podID)"])
        let owner = restoreOwner(record)
        try? await containers.remove(owner)
        continue
      }
      let owner = restoreOwner(record)
      guard record.state != .exited else { continue }
      if owner.layout.recordedExit() != nil {
        // Exited while the daemon was down: recorded now.
        await containers.exited(owner)
      } else if !known.contains(record.id) {
        logger.warning("Container is gone from the runtime (reboot?); recorded as exited", metadata: ["id": "\(record.id)"])
        await containers.lost(owner)
      }
    }
    for owner in pods.index.all where owner.record.state == .ready {
      await checkReady(owner)
    }
    await removeOrphans()
  }

  private func restoreOwner(_ record: ContainerRecord) -> ContainerOwner {
    let containers = daemon.containers
    // A handler no longer configured: the default one's paths and runc
    // serve to remove what is left (the configuration always has one).
    let runtime = (try? containers.runtime(handler: record.runtimeHandler))
      ?? containers.runtimes[daemon.config.runtime.defaultRuntime] ?? containers.runtimes.all.values.first!
    let owner = ContainerOwner(record: record, layout: runtime.layout(id: record.id, bundle: record.bundle), runtime: runtime)
    containers.supervisor.owners.restore(owner)
    return owner
  }

  /// A pod recorded as ready must still have what ready means: its pinned
  /// namespaces (gone after a reboot, or half-released by a crash during
  /// StopPodSandbox) and its init or infra container (with its root). One
  /// that does not is stopped for good
  /// (what is left of it released), as kubelet then expects.
  private func checkReady(_ owner: PodOwner) async {
    let pod = owner.record
    var missing: [String] = []
    for path in pod.namespaces.paths where !Self.isPinned(path) { missing.append(path) }
    if let pidInit = pod.namespaces.pidInit, pidInit.path == nil { missing.append("init \(pidInit.pid)") }
    if let infra = pod.infra {
      if infra.process.path == nil { missing.append("infra container \(infra.process.pid)") }
      if !Self.isMountPoint(infra.rootfs) { missing.append(infra.rootfs) }
    }
    if let shm = pod.shmPath, !Self.isMountPoint(shm) { missing.append(shm) }
    guard !missing.isEmpty else { return }
    daemon.logger.warning(
      "Pod lost part of itself while the daemon was down (reboot or crash); stopping it",
      metadata: ["pod": "\(pod.id)", "missing": "\(missing)"])
    do {
      try await daemon.pods.supervisor.stop(owner)
    } catch {
      daemon.logger.warning("Cannot stop the broken pod", metadata: ["pod": "\(pod.id)", "error": "\(error)"])
    }
  }

  static func isPinned(_ path: String) -> Bool {
    var info = Glibc.stat()
    var own = Glibc.stat()
    return stat(path, &info) == 0 && stat("/proc/self/ns/net", &own) == 0 && info.st_dev == own.st_dev
  }

  static func isMountPoint(_ path: String) -> Bool { crio_is_mount_root(path) == 1 }

  // MARK: - orphans

  private func removeOrphans() async {
    let config = daemon.config
    let containerIDs = Set(daemon.containers.supervisor.index.all.map(\.id))
    let podRecords = daemon.pods.supervisor.index.all.map(\.record)
    let podIDs = Set(podRecords.map(\.id))
    let readyPods = Set(podRecords.filter { $0.state == .ready }.map(\.id))
    // Pods whose runc container (named by the pod's ID) is their init or infra.
    let initPods = Set(podRecords.filter { $0.state == .ready && ($0.namespaces.pidInit != nil || $0.infra != nil) }.map(\.id))
    var removed: [String: [String]] = [:]
    /// IDs this daemon's own directories show and no record owns: only
    /// their cgroups are looked for (the hierarchy is shared by the node).
    var orphans: Set<String> = []
    func note(_ kind: String, _ what: String, id: String? = nil) {
      removed[kind, default: []].append(what)
      if let id { orphans.insert(id) }
    }

    // Monitors of containers nobody owns, then runc's state of them (which
    // kills their processes) and of pod inits of pods no longer ready.
    for process in Self.monitorProcesses(exitsDirectory: config.runtime.containerExitsDir)
    where !containerIDs.contains(process.containerID) {
      kill(process.pid, SIGKILL)
      note("monitor processes", "\(process.pid)")
    }
    // Pod monitors of pods not (or no longer) ready: a creation cut short
    // left one running (a stopped pod's was ended above).
    for process in Self.podMonitorProcesses(exitsDirectory: config.runtime.containerExitsDir) where !readyPods.contains(process.podID) {
      kill(process.pid, SIGKILL)
      note("pod monitor processes", "\(process.pid)")
    }
    for (handler, runtime) in daemon.containers.runtimes.all {
      for id in runtime.containerIDs() where Self.isID(id) && !containerIDs.contains(id) && !initPods.contains(id) {
        do {
          try await runtime.delete(id: id, force: true)
          note("runc containers", "\(handler)/\(id)", id: id)
        } catch {
          daemon.logger.warning("Cannot remove an orphaned runc container", metadata: ["id": "\(id)", "error": "\(error)"])
        }
      }
    }

    // The network of pods that are not (or no longer) ready: their cached
    // ADDs, and pinned namespaces whose ADD may not have been cached yet.
    let cni = daemon.network.cni
    var detached: Set<String> = []
    for entry in cni.cache.allEntries() where !readyPods.contains(entry.containerID) && !detached.contains(entry.containerID) {
      detached.insert(entry.containerID)
      let pod = Self.podInfo(id: entry.containerID, cniArgs: entry.cniArgs, ifName: entry.ifName)
      let netns = Self.pinPath(config.runtime.namespacesDir, "netns", entry.containerID)
      do {
        try await cni.delete(network: nil, pod: pod, netnsPath: netns)
        note("CNI attachments", entry.containerID, id: entry.containerID)
      } catch {
        daemon.logger.warning("Cannot release an orphaned pod's network", metadata: ["pod": "\(entry.containerID)", "error": "\(error)"])
      }
    }
    let pinKinds = ["netns", "ipcns", "utsns", "userns"]
    for kind in pinKinds {
      let directory = config.runtime.namespacesDir + "/" + kind
      for id in ((try? Files.list(directory)) ?? []) where Self.isID(id) && !readyPods.contains(id) {
        if kind == "netns", !detached.contains(id), Self.isPinned(directory + "/" + id),
          let network = daemon.network.watcher.current().defaultNetwork
        {
          try? await cni.delete(network: network, pod: Self.podInfo(id: id, cniArgs: [], ifName: "eth0"), netnsPath: directory + "/" + id)
        }
        umount2(directory + "/" + id, Int32(MNT_DETACH))
        unlink(directory + "/" + id)
        note("pinned namespaces", "\(kind)/\(id)", id: id)
      }
    }

    // Mounts and directories of containers and pods nobody owns.
    let mounts = MountInfoEntry.current().map(\.mountPoint)
    let bundles = daemon.containers.bundlesDirectory
    let podsDirectory = daemon.pods.podsDirectory
    for mount in mounts.sorted(by: { $0.count > $1.count }) {
      if let id = Self.owner(of: mount, under: bundles), !containerIDs.contains(id) {
        umount2(mount, Int32(MNT_DETACH))
        note("mounts", mount, id: id)
      } else if let id = Self.owner(of: mount, under: podsDirectory), !readyPods.contains(id) {
        umount2(mount, Int32(MNT_DETACH))
        note("mounts", mount, id: id)
      }
    }
    for (directory, owners, kind) in [
      (bundles, containerIDs, "container bundles"),
      (daemon.containers.layersDirectory, containerIDs, "container layers"),
      (podsDirectory, podIDs, "pod directories"),
      // log_dir/<pod ID>, made for a pod kubelet gave no log directory.
      (config.logDir, podIDs, "pod log directories"),
    ] {
      for id in ((try? Files.list(directory)) ?? []) where Self.isID(id) && !owners.contains(id) {
        Files.removeTree(directory + "/" + id)
        note(kind, id, id: id)
      }
    }
    for id in ((try? Files.list(config.runtime.containerExitsDir)) ?? []) where Self.isID(id) && !containerIDs.contains(id) {
      unlink(config.runtime.containerExitsDir + "/" + id)
      note("exit files", id, id: id)
    }
    let attach = config.runtime.containerAttachSocketDir
    for id in ((try? Files.list(attach)) ?? []) where Self.isID(id) && !containerIDs.contains(id) && Self.isSymlink(attach + "/" + id) {
      unlink(attach + "/" + id)
      note("attach links", id, id: id)
    }

    // Cgroups runc made for those containers and pod inits (runc's delete
    // removes the cgroups of what it knows; these are the rest).
    if let layout = daemon.containers.cgroups, !orphans.isEmpty {
      for cgroup in Self.crioCgroups(layout) where orphans.contains(cgroup.id) {
        do {
          try await layout.removeCgroup(relativePath: cgroup.path)
          note("cgroups", cgroup.path)
        } catch {
          daemon.logger.warning("Cannot remove an orphaned cgroup", metadata: ["cgroup": "\(cgroup.path)", "error": "\(error)"])
        }
      }
    }

    // Layers no image refers to (a pull cut short).
    do {
      for layer in try daemon.images.records.unreferencedLayers() {
        try? daemon.images.layers.remove(chainID: layer.chainID)
        try? daemon.images.records.deleteLayer(chainID: layer.chainID)
        note("image layers", layer.chainID.description)
      }
    } catch {
      daemon.logger.warning("Cannot look for unreferenced layers", metadata: ["error": "\(error)"])
    }

    for (kind, items) in removed.sorted(by: { $0.key < $1.key }) {
      daemon.logger.info("Removed what no record owns", metadata: ["kind": "\(kind)", "count": "\(items.count)", "items": "\(items)"])
    }
  }

  static func isSymlink(_ path: String) -> Bool {
    var info = Glibc.stat()
    return lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFLNK
  }

  static func pinPath(_ namespacesDir: String, _ kind: String, _ id: String) -> String? {
    let path = "\(namespacesDir)/\(kind)/\(id)"
    return isPinned(path) ? path : nil
  }

  static func podInfo(id: String, cniArgs: [(String, String)], ifName: String) -> CNIPodInfo {
    func arg(_ key: String) -> String { cniArgs.first { $0.0 == key }?.1 ?? "" }
    return CNIPodInfo(namespace: arg("K8S_POD_NAMESPACE"), name: arg("K8S_POD_NAME"), id: id, uid: arg("K8S_POD_UID"), ifName: ifName)
  }

  /// The ID in `<directory>/<id>/...` when `path` is beneath `directory`.
  static func owner(of path: String, under directory: String) -> String? {
    guard path.hasPrefix(directory + "/") else { return nil }
    let rest = path.dropFirst(directory.count + 1)
    let id = String(rest.prefix { $0 != "/" })
    return isID(id) ? id : nil
  }

  /// crio-monitor processes (`--exits-dir <dir> --pod <id>`) of this daemon's exits directory.
  static func podMonitorProcesses(exitsDirectory: String) -> [(pid: pid_t, podID: String)] {
    processes(naming: exitsDirectory, after: "--exits-dir", idAfter: "--pod").map { ($0.pid, $0.id) }
  }

  /// conmon processes of this daemon (they name its exits directory) and
  /// the container each monitors (`-c <id>`).
  static func monitorProcesses(exitsDirectory: String) -> [(pid: pid_t, containerID: String)] {
    processes(naming: exitsDirectory, after: "--exit-dir", idAfter: "-c").map { ($0.pid, $0.id) }
  }

  /// Processes whose command line gives `directoryFlag` the value
  /// `directory`, with the value each gives `idFlag`.
  private static func processes(naming directory: String, after directoryFlag: String, idAfter idFlag: String) -> [(pid: pid_t, id: String)] {
    Processes.commandLines().compactMap { pid, arguments in
      guard let named = arguments.firstIndex(of: directoryFlag), named + 1 < arguments.count,
        arguments[named + 1] == directory,
        let flag = arguments.firstIndex(of: idFlag), flag + 1 < arguments.count
      else { return nil }
      return (pid, arguments[flag + 1])
    }
  }

  /// Every `crio-<id>` (cgroupfs) or `crio-<id>.scope` (systemd) cgroup in
  /// the hierarchies, by relative path; a few levels deep is where
  /// kubelet's and the default parents put them.
  static func crioCgroups(_ layout: CgroupLayout) -> [(id: String, path: String)] {
    var found: [String: String] = [:]
    func walk(_ mount: String, _ relative: String, depth: Int) {
      guard depth < 8 else { return }
      for name in (try? Files.list(mount + relative)) ?? [] where Files.kind(of: mount + relative + "/" + name) == .directory {
        let child = relative + "/" + name
        var base = Substring(name)
        if base.hasSuffix(".scope") { base = base.dropLast(".scope".count) }
        // A container's or pod init's own (crio-<id>) or its conmon's (crio-conmon-<id>).
        if base.hasPrefix("crio-conmon-"), isID(String(base.dropFirst("crio-conmon-".count))) {
          found[child] = String(base.dropFirst("crio-conmon-".count))
        } else if base.hasPrefix("crio-"), isID(String(base.dropFirst("crio-".count))) {
          found[child] = String(base.dropFirst("crio-".count))
        } else {
          walk(mount, child, depth: depth + 1)
        }
      }
    }
    for mount in layout.hierarchyMounts { walk(mount, "", depth: 0) }
    return found.map { (id: $0.value, path: $0.key) }.sorted { $0.path < $1.path }
  }
}
