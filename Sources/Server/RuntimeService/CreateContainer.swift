import CRIAPI
import GRPCCore
import OCI
import Runtime
import Support

extension CRIRuntimeService {
  public func createContainer(
    request: Runtime_V1_CreateContainerRequest,
    context: GRPCCore.ServerContext
  ) async throws -> Runtime_V1_CreateContainerResponse {
    let id = try await ContainerCreation(daemon: daemon, request: request).run()
    var response = Runtime_V1_CreateContainerResponse()
    response.containerID = id
    return response
  }
}

/// One CreateContainer: each step undone if a later one fails, so a failed
/// creation leaves no mount, directory, runc state or record behind.
struct ContainerCreation: Sendable {
  let daemon: DaemonContext
  let request: Runtime_V1_CreateContainerRequest

  func run() async throws -> String {
    let config = request.config
    guard request.hasConfig, config.hasMetadata, !config.metadata.name.isEmpty else {
      throw CRIError.invalidArgument("the container config needs metadata with a name")
    }
    guard let pod = try await daemon.pods.store.find(request.podSandboxID) else {
      throw CRIError.notFound("pod sandbox \"\(request.podSandboxID)\" not found")
    }
    guard pod.state == .ready else {
      throw CRIError.failedPrecondition("pod sandbox \(pod.id) is not ready; containers can only be created in a ready pod")
    }
    guard let image = try daemon.images.lookUp(config.image.image) else {
      throw CRIError.notFound("image \"\(config.image.image)\" not found; pull it first")
    }
    let imageConfig = try OCIJSON.decode(ImageConfiguration.self, from: image.config, kind: "image config")
    let podConfig = pod.configMessage
    let requestedLog = try Self.logPath(directory: podConfig.logDirectory, relative: config.logPath)

    let containers = daemon.containers
    let name = ContainerRecord.reservedName(config.metadata, pod: podConfig.metadata)
    let id = PodContext.newID()
    if case .taken(let holder) = await containers.store.reserve(name, for: id) {
      throw CRIError.alreadyExists(
        "container name \"\(name)\" is reserved by \(holder.map { String($0.id.prefix(12)) } ?? "a container being created"); remove it first or use another attempt number")
    }
    var undo: [() async -> Void] = [{ await containers.store.releaseName(name, of: id) }]
    do {
      let bundle = containers.bundlesDirectory + "/" + id
      let layerDirectory = containers.layersDirectory + "/" + id
      let logPath = requestedLog.isEmpty ? bundle + "/ctr.log" : requestedLog
      undo.append { Files.removeTree(bundle) }
      undo.append { Files.removeTree(layerDirectory) }
      let lowers = image.layers.map { daemon.images.layers.diffPath(chainID: $0) }
      try ContainerRootfs.mount(lowerDirectories: lowers, layerDirectory: layerDirectory, merged: bundle + "/rootfs")
      undo.append { ContainerRootfs.unmount(bundle + "/rootfs") }

      let spec = try ContainerSpecBuilder.build(ContainerSpecInputs(
        containerID: id, config: config, podConfig: podConfig, image: imageConfig, rootfs: bundle + "/rootfs",
        networkNamespace: pod.namespaces.network, ipcNamespace: pod.namespaces.ipc, utsNamespace: pod.namespaces.uts,
        hostnamePath: pod.directory + "/hostname", hostsPath: pod.directory + "/hosts",
        resolvPath: pod.directory + "/resolv.conf", shmPath: pod.shmPath, hostname: pod.hostname,
        cgroupsPath: cgroupsPath(id: id, parent: podConfig.linux.cgroupParent),
        defaultCapabilities: daemon.config.runtime.defaultCapabilities,
        defaultEnv: daemon.config.runtime.defaultEnv,
        allowedOOMScoreAdjMin: containers.oomScoreAdjFloor))
      let ociBundle = try OCIBundle.create(at: bundle, spec: spec)
      if let parent = logPath.lastIndex(of: "/") {
        try Files.makeDirectories(String(logPath[..<parent]), mode: 0o755)
      }

      var record = ContainerRecord(
        id: id, name: name, podID: pod.id, config: try config.serializedBytes(), imageID: image.id.hex,
        imageRef: image.repoDigests.first ?? image.id.description, runtimeHandler: pod.runtimeHandler,
        bundle: bundle, layerDirectory: layerDirectory, logPath: logPath, state: .created, pid: 0,
        createdAt: DaemonContext.now(), startedAt: 0, finishedAt: 0, exitCode: 0,
        stopSignal: SignalNames.number(imageConfig.config?.stopSignal))
      let runtime = try containers.runtime(for: record)
      let process = try await runtime.create(
        id: id, name: name, bundle: ociBundle, logPath: logPath,
        terminal: config.tty, stdin: config.stdin, stdinOnce: config.stdinOnce)
      undo.append { try? await runtime.delete(id: id, force: true) }
      record.pid = process.pid
      try await containers.store.save(record)
      daemon.logger.info("Created container", metadata: ["id": "\(id)", "name": "\(name)", "pod": "\(pod.id)"])
      return id
    } catch {
      for step in undo.reversed() { await step() }
      // Runtime errors carry runc's and conmon's own words.
      throw error as? CRIError ?? CRIError.internal("creating container \(name): \(error)")
    }
  }

  /// The container's log file: inside the pod's log directory (never
  /// outside it), or in the bundle when kubelet names none.
  static func logPath(directory: String, relative: String) throws(CRIError) -> String {
    guard !directory.isEmpty, !relative.isEmpty else { return "" }
    let parts = relative.split(separator: "/", omittingEmptySubsequences: true)
    guard !relative.hasPrefix("/"), !parts.isEmpty, !parts.contains(".."),
      !relative.unicodeScalars.contains(where: { $0.value < 0x20 })
    else {
      throw .invalidArgument("log_path \(Quoting.doubleQuoted(relative)) must be a relative path inside the pod's log directory")
    }
    return directory + "/" + parts.joined(separator: "/")
  }

  /// cgroupfs: `<parent>/crio-<id>`; systemd: `<slice>:crio:<id>`.
  func cgroupsPath(id: String, parent: String) -> String {
    switch daemon.config.runtime.cgroupManager {
    case .cgroupfs: (parent.isEmpty ? "/crio" : parent) + "/crio-" + id
    case .systemd: (parent.isEmpty ? "system.slice" : parent) + ":crio:" + id
    }
  }
}
