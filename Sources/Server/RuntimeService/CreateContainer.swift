#if canImport(Glibc)
import Glibc
#endif
import CRIAPI
import Config
import ContainerSecurity
import GRPCCore
import Logging
import OCI
import PodNetwork
import Runtime
import Storage
import Support
import SwiftProtobuf

extension CRIRuntimeService {
  public func createContainer(
    request: Runtime_V1_CreateContainerRequest,
    context: GRPCCore.ServerContext
  ) async throws -> Runtime_V1_CreateContainerResponse {
    let creation = ContainerCreation(daemon: daemon, request: request)
    let (podOwner, name) = try creation.podAndName()
    let pods = daemon.pods.supervisor
    // The creation runs to its end even if this caller's deadline passes;
    // kubelet's retry with the same name joins it or collects its result.
    // It holds the pod's lock: the pod is neither stopped nor removed under it.
    let id = try await daemon.containers.supervisor.creations.create(name) {
      try await pods.withPod(podOwner) { pod in try await creation.run(pod: pod, name: name) }
    }
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

  /// The pod the container joins and the container's reserved name.
  func podAndName() throws -> (PodOwner, String) {
    let config = request.config
    guard request.hasConfig, config.hasMetadata, !config.metadata.name.isEmpty else {
      throw CRIError.invalidArgument("the container config needs metadata with a name")
    }
    let pod = try daemon.pods.supervisor.owner(request.podSandboxID)
    return (pod, ContainerRecord.reservedName(config.metadata, pod: pod.record.configMessage.metadata))
  }

  func run(pod: PodSandbox, name: String) async throws -> String {
    let config = request.config
    if config.linux.securityContext.privileged && !pod.configMessage.linux.securityContext.privileged {
      throw CRIError.invalidArgument(
        "container \(config.metadata.name) asks to be privileged, but pod \(pod.id) is not; a privileged container needs a privileged pod")
    }
    guard pod.state == .ready else {
      throw CRIError.failedPrecondition("pod sandbox \(pod.id) is not ready; containers can only be created in a ready pod")
    }
    guard let image = try daemon.images.lookUp(config.image.image) else {
      throw CRIError.notFound("image \"\(config.image.image)\" not found; pull it first")
    }
    let imageConfig = try OCIJSON.decode(ImageConfiguration.self, from: image.config, kind: "image config")
    let podConfig = pod.configMessage
    let userNamespace = try PodUserNamespace.forContainer(config, pod: pod)

    let containers = daemon.containers
    let supervisor = containers.supervisor
    let id = PodContext.newID()
    if let holderID = supervisor.names.reserve(name, for: id) {
      // The retry of a creation whose caller gave up gets that container.
      let holder = supervisor.index.owner(holderID)?.record
      if let holder, holder.podID == pod.id, holder.configMessage == config,
        await supervisor.creations.claim(name, id: holder.id)
      {
        return holder.id
      }
      throw CRIError.alreadyExists(
        "container name \"\(name)\" is reserved by \(holder == nil ? "a container being created" : String(holderID.prefix(12))); remove it first or use another attempt number")
    }
    var undo: [() async -> Void] = [{ supervisor.names.release(name, of: id) }]
    do {
      let runtime = try containers.runtime(handler: pod.runtimeHandler)
      let layout = containers.layout(id: id, runtime: runtime)
      let bundle = layout.bundle
      let layerDirectory = containers.layersDirectory + "/" + id
      // As CRI-O: the pod's log directory, and `<container ID>.log` when kubelet names no file.
      let logPath = try Self.logPath(
        directory: pod.logDirectory(defaultRoot: daemon.config.logDir), relative: config.logPath.isEmpty ? id + ".log" : config.logPath)
      undo.append { Files.removeTree(bundle) }
      undo.append { Files.removeTree(layerDirectory) }
      let lowers = image.layers.map { daemon.images.layers.diffPath(chainID: $0) }
      try ContainerRootfs.mount(
        lowerDirectories: lowers, layerDirectory: layerDirectory, merged: layout.rootfs, userNamespace: userNamespace,
        options: daemon.config.storageOptions)
      undo.append { ContainerRootfs.unmount(layout.rootfs) }
      CrashPoints.reach("CreateContainer", 1)
      let runtimeConfig = daemon.config.runtime
      let volumes = imageConfig.config?.volumes.map { Array($0.keys) } ?? []
      if daemon.config.image.imageVolumes == "mkdir" {
        try Self.makeImageVolumes(volumes, rootfs: layout.rootfs, owner: userNamespace?.hostRoot ?? (0, 0))
      }
      let configuredMounts = try ConfiguredMounts.forContainer(
        runtimeConfig, imageVolumes: daemon.config.image.imageVolumes, volumes: volumes, bundle: bundle,
        readOnlyRoot: config.linux.securityContext.readonlyRootfs || runtimeConfig.readOnly)
      // runc binds these idmapped clones; they go once it has.
      let idmappedDirectory = layout.idmappedStaging
      undo.append { IDMappedMounts.detachAll(in: idmappedDirectory) }
      let idmappedSources = try Self.stageIDMappedMounts(config.mounts, directory: idmappedDirectory, pod: userNamespace)
      if userNamespace != nil {
        try Files.makeTraversable(layout.rootfs)
        try Files.makeTraversable(pod.directory)
      }

      let built = try ContainerSpecBuilder.build(ContainerSpecInputs(
        containerID: id, config: config, podConfig: podConfig, image: imageConfig, rootfs: layout.rootfs,
        networkNamespace: pod.namespaces.network, ipcNamespace: pod.namespaces.ipc, utsNamespace: pod.namespaces.uts,
        sharedPIDNamespace: try sharedPIDNamespace(config: config, pod: pod),
        hostnamePath: pod.directory + "/hostname", hostsPath: pod.directory + "/hosts",
        resolvPath: pod.directory + "/resolv.conf", shmPath: pod.shmPath, hostname: pod.hostname,
        cgroupsPath: try Self.cgroupsPath(driver: containers.cgroupDriver, id: id, parent: podConfig.linux.cgroupParent),
        defaultCapabilities: daemon.config.runtime.defaultCapabilities,
        defaultEnv: daemon.config.runtime.defaultEnv,
        allowedOOMScoreAdjMin: containers.oomScoreAdjFloor,
        defaultSeccompProfile: daemon.config.runtime.seccompProfile,
        seccompDefaultWhenEmpty: daemon.config.runtime.seccompUseDefaultWhenEmpty,
        additionalDevices: daemon.config.runtime.additionalDevices,
        annotationDevices: try annotationDevices(pod: pod), allowedDevices: daemon.config.runtime.allowedDevices,
        readOnlyRootfs: daemon.config.runtime.readOnly,
        ulimits: runtimeConfig.ulimits,
        pidsLimit: runtimeConfig.pidsLimit,
        addInheritableCapabilities: runtimeConfig.addInheritableCapabilities,
        bindMountPrefix: runtimeConfig.bindMountPrefix,
        absentMountSourcesToReject: runtimeConfig.absentMountSourcesToReject,
        configuredMounts: configuredMounts,
        privilegedWithoutHostDevices: runtimeConfig.runtimes[pod.runtimeHandler]?.privilegedWithoutHostDevices ?? false,
        deviceOwnershipFromSecurityContext: runtimeConfig.deviceOwnershipFromSecurityContext,
        userNamespace: userNamespace, idmappedMountSources: idmappedSources))
      let spec = try await containers.injections.apply(
        to: built, config: config, podAnnotations: podConfig.annotations)
      // The config is fsynced: off the cooperative pool.
      _ = try await Blocking.run { () throws(Runtime.RuntimeError) in try OCIBundle.create(at: bundle, spec: spec) }
      CrashPoints.reach("CreateContainer", 2)
      if let parent = logPath.lastIndex(of: "/") {
        try Files.makeDirectories(String(logPath[..<parent]), mode: 0o755)
      }

      var record = ContainerRecord(
        id: id, name: name, podID: pod.id, config: try config.serializedBytes(), imageID: image.id.hex,
        imageRef: image.repoDigests.first ?? image.id.description, runtimeHandler: pod.runtimeHandler,
        bundle: bundle, layerDirectory: layerDirectory, logPath: logPath, state: .created, pid: 0,
        createdAt: DaemonContext.now(), startedAt: 0, finishedAt: 0, exitCode: 0,
        stopSignal: SignalNames.number(imageConfig.config?.stopSignal),
        cgroupPath: try? CgroupNaming.filesystemPath(
          driver: containers.cgroupDriver, parent: podConfig.linux.cgroupParent, containerID: id),
        // A pod monitor is in the pod's monitor cgroup, not one per container.
        monitorCgroupPath: runtimeConfig.runtimes[pod.runtimeHandler].flatMap { handler in
          handler.runtimeType == "pod" ? nil : MonitorCgroup.path(handler: handler, manager: runtimeConfig.cgroupManager, podCgroup: pod.cgroupParent, containerID: id)
        })
      let process: ContainerProcess
      var request = CreateRequest(
        layout: layout, name: name, logPath: logPath, terminal: config.tty, stdin: config.stdin, stdinOnce: config.stdinOnce)
      request.monitorCgroup = record.monitorCgroupPath
      request.pod = pod.runtimeContext
      if let monitorCgroup = record.monitorCgroupPath {
        undo.append { await MonitorCgroup.remove(monitorCgroup, logger: daemon.logger) }
      }
      do {
        process = try await runtime.create(request)
      } catch {
        throw CRIError.runtime(error, "creating container \(name)")
      }
      // Undone in reverse: runc's state first, then what conmon left.
      undo.append { layout.removeFiles() }
      undo.append { try? await runtime.delete(id: id, force: true) }
      CrashPoints.reach("CreateContainer", 3)
      IDMappedMounts.detachAll(in: idmappedDirectory)
      record.pid = process.pid
      try await supervisor.register(record, layout: layout, runtime: runtime)
      CrashPoints.reach("CreateContainer", 4)
      daemon.logger.info("Created container", metadata: ["id": "\(id)", "name": "\(name)", "pod": "\(pod.id)"])
      return id
    } catch {
      for step in undo.reversed() { await step() }
      // Runtime errors carry runc's and conmon's own words.
      throw CRIError.from(error, "creating container \(name)")
    }
  }

  /// The image's declared volumes become plain directories in the
  /// container's root (CRI-O's `image_volumes = "mkdir"`). The paths come
  /// from the image, so they must be clean and absolute, and are made
  /// without following links.
  static func makeImageVolumes(_ volumes: [String], rootfs: String, owner: (uid: UInt32, gid: UInt32)) throws(CRIError) {
    for volume in volumes.sorted() {
      do {
        let path = try UntrustedValues.volumePath(volume)
        try Files.makeDirectoriesBeneath(root: rootfs, path, owner: owner)
      } catch {
        throw .invalidArgument("the image declares volume \(Quoting.doubleQuoted(volume)), which cannot be made: \(error)")
      }
    }
  }

  /// Idmapped clones of the CRI mounts that carry uid/gid mappings (kubelet
  /// sets the pod's for its volumes), by mount index. The pod's own user
  /// namespace serves mappings equal to its own; others get one made for
  /// the mount alone.
  static func stageIDMappedMounts(
    _ mounts: [Runtime_V1_Mount], directory: String, pod: PodUserNamespace?
  ) throws(CRIError) -> [Int: String] {
    var sources: [Int: String] = [:]
    var staging = IDMappedMounts(directory: directory)
    for (index, mount) in mounts.enumerated() where !mount.uidMappings.isEmpty || !mount.gidMappings.isEmpty {
      let field = "mounts[\(index)]"
      let mappings: UserNamespaceMappings
      do {
        mappings = try UserNamespaceMappings(
          uids: mount.uidMappings.map(IDMapRange.init), gids: mount.gidMappings.map(IDMapRange.init))
      } catch {
        throw .invalidArgument("\(field): \(error.description.replacing("userns_options.", with: ""))")
      }
      guard mount.hostPath.hasPrefix("/"), Files.kind(of: mount.hostPath) != .missing else {
        throw .invalidArgument("\(field).host_path \(String(reflecting: mount.hostPath)) is not an existing absolute path")
      }
      let fd: Int32
      if let pod, pod.mappings == mappings {
        fd = try pod.open()
      } else {
        do {
          fd = try UserNamespaces.open(mappings)
        } catch {
          throw .internal("\(field): \(error.description)")
        }
      }
      defer { close(fd) }
      sources[index] = try staging.stage(mount.hostPath, userNamespace: fd, recursive: true, what: "\(field) \(mount.containerPath)")
    }
    return sources
  }

  /// The pod's devices annotation, if its runtime handler allows it (CRI-O
  /// reads it from the pod, under its current or its deprecated name, which
  /// are allowed together).
  func annotationDevices(pod: PodSandbox) throws(CRIError) -> String? {
    let names = ["devices.crio.io", "io.kubernetes.cri-o.Devices"]
    let annotations = pod.configMessage.annotations
    guard let value = names.lazy.compactMap({ annotations[$0] }).first else { return nil }
    let allowed: AnnotationAllowList
    do {
      allowed = try AnnotationAllowList(allowed: daemon.config.runtime.runtimes[pod.runtimeHandler]?.allowedAnnotations ?? [])
    } catch {
      throw .internal("runtime handler \(pod.runtimeHandler): \(error)")
    }
    return names.contains(where: allowed.permits) ? value : nil
  }

  /// The container's log file, inside the pod's log directory (never outside it).
  static func logPath(directory: String, relative: String) throws(CRIError) -> String {
    let parts = relative.split(separator: "/", omittingEmptySubsequences: true)
    guard !relative.hasPrefix("/"), !parts.isEmpty, !parts.contains(".."),
      !relative.unicodeScalars.contains(where: { $0.value < 0x20 })
    else {
      throw .invalidArgument("log_path \(Quoting.doubleQuoted(relative)) must be a relative path inside the pod's log directory")
    }
    return directory + "/" + parts.joined(separator: "/")
  }

  /// The PID namespace a POD or TARGET pid mode joins: the pod's shared
  /// one (its init must still run), or the target container's.
  func sharedPIDNamespace(config: Runtime_V1_ContainerConfig, pod: PodSandbox) throws -> String? {
    let options = config.linux.securityContext.namespaceOptions
    switch options.pid {
    case .pod:
      guard let pidInit = pod.namespaces.pidInit else {
        throw CRIError.invalidArgument(
          "the container asks for the pod's PID namespace, but pod \(pod.id) was not created with namespace_options.pid POD")
      }
      guard let path = pidInit.path else {
        throw CRIError.failedPrecondition("the PID namespace of pod \(pod.id) is gone (its init process \(pidInit.pid) ended)")
      }
      return path
    case .target:
      guard let target = try daemon.containers.supervisor.index.find(options.targetID), target.record.podID == pod.id else {
        throw CRIError.notFound("target container \"\(options.targetID)\" of namespace_options.pid TARGET is not in pod \(pod.id)")
      }
      let current = target.record
      guard current.state == .running, current.pid > 0 else {
        throw CRIError.failedPrecondition("target container \(target.id) is not running; its PID namespace cannot be joined")
      }
      return "/proc/\(current.pid)/ns/pid"
    default:
      return nil
    }
  }

  /// cgroupfs: `<parent>/crio-<id>`; systemd: `<slice>:crio:<id>`.
  static func cgroupsPath(driver: CgroupDriver, id: String, parent: String) throws(CRIError) -> String {
    do {
      return try CgroupNaming.ociCgroupsPath(driver: driver, parent: parent, containerID: id)
    } catch {
      throw .invalidArgument("linux.cgroup_parent of the pod: \(error)")
    }
  }
}
