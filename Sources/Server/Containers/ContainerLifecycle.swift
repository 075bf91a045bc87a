import Runtime
import Support

#if canImport(Glibc)
import Glibc
#endif

extension DaemonContext {
  /// The record with what conmon recorded since it was last looked at: a
  /// running container whose exit file exists has exited.
  func refreshed(_ record: ContainerRecord) async -> ContainerRecord {
    guard record.state == .running, let runtime = try? containers.runtime(for: record),
      let code = runtime.exitCode(id: record.id)
    else { return record }
    var exited = record
    exited.state = .exited
    exited.exitCode = code
    exited.oomKilled = oomKilled(record)
    var info = stat()
    let written = stat(runtime.exitFilePath(id: record.id), &info) == 0
      ? Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec) : Self.now()
    // The file system's clock is coarser than ours; never finish before the start.
    exited.finishedAt = max(written, record.startedAt)
    try? await containers.store.save(exited)
    return exited
  }

  /// Whether the kernel's OOM killer struck in the container's cgroup (which
  /// stays until the container is deleted from runc).
  func oomKilled(_ record: ContainerRecord) -> Bool {
    // conmon leaves an "oom" file when it saw the kernel's OOM event.
    if Files.kind(of: record.bundle + "/oom") == .file { return true }
    guard let path = record.cgroupPath, let layout = containers.cgroups,
      let stats = try? CgroupStats(layout: layout).read(relativePath: path)
    else { return false }
    return (stats.oomKillCount ?? 0) > 0
  }

  /// Stops a running container: its stop signal, then SIGKILL after `timeout`.
  func stop(_ record: ContainerRecord, timeout: Duration) async throws(CRIError) -> ContainerRecord {
    let current = await refreshed(record)
    guard current.state == .running else {
      if current.state == .created {
        // Never started: nothing to signal, but it counts as exited now.
        var exited = current
        exited.state = .exited
        exited.finishedAt = Self.now()
        try? await containers.store.save(exited)
        return exited
      }
      return current
    }
    let runtime = try containers.runtime(for: current)
    let code: Int32
    do {
      code = try await runtime.stop(id: current.id, timeout: timeout, signal: current.stopSignal)
    } catch {
      throw .internal("stopping container \(current.id): \(error)")
    }
    var exited = current
    exited.state = .exited
    exited.exitCode = code
    exited.finishedAt = Self.now()
    do {
      try await containers.store.save(exited)
    } catch {
      throw .internal("recording container \(current.id) as stopped: \(error)")
    }
    logger.info("Stopped container", metadata: ["id": "\(current.id)", "exitCode": "\(code)"])
    return exited
  }

  /// Stops (at once) and removes a container: runc's state, the overlay,
  /// the bundle, the upper layer, the exit file and the record.
  func remove(_ record: ContainerRecord) async throws(CRIError) {
    _ = try await stop(record, timeout: .zero)
    let runtime = try containers.runtime(for: record)
    do {
      try await runtime.delete(id: record.id, force: true)
    } catch {
      throw .internal("removing container \(record.id) from the runtime: \(error)")
    }
    ContainerRootfs.unmount(record.rootfs)
    Files.removeTree(record.bundle)
    Files.removeTree(record.layerDirectory)
    unlink(runtime.exitFilePath(id: record.id))
    // conmon's link from the attach directory to the bundle.
    unlink(runtime.config.attachSocketDir + "/" + record.id)
    do {
      try await containers.store.delete(record.id)
      await containers.creations.forget(record.name)
    } catch {
      throw .internal("removing the record of container \(record.id): \(error)")
    }
    logger.info("Removed container", metadata: ["id": "\(record.id)", "name": "\(record.name)"])
  }

  /// The pod's containers.
  func containers(of podID: String) async -> [ContainerRecord] {
    await containers.store.all().filter { $0.podID == podID }
  }

  static func now() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
  }
}
