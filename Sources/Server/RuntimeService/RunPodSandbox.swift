#if canImport(Glibc)
import Glibc
#endif
import CRIAPI
import Config
import GRPCCore
import Logging
import PodNetwork
import Runtime
import Support
import SwiftProtobuf

extension CRIRuntimeService {
  public func runPodSandbox(
    request: Runtime_V1_RunPodSandboxRequest,
    context: GRPCCore.ServerContext
  ) async throws -> Runtime_V1_RunPodSandboxResponse {
    let config = request.config
    try PodFiles.validate(config)
    let options = config.linux.securityContext.namespaceOptions
    let userNamespace = try PodUserNamespace.requested(options, field: "linux.security_context.namespace_options")
    if let userNamespace {
      try PodUserNamespace.checkPodNamespaces(options)
      try PodUserNamespace.checkMinimumHostIDs(
        userNamespace, minimumUID: daemon.config.runtime.minimumMappableUID, minimumGID: daemon.config.runtime.minimumMappableGID)
      if let reason = await daemon.containers.userNamespacesUnsupported {
        throw CRIError.failedPrecondition("this host cannot give a pod its own user namespace: \(reason)")
      }
    }
    let handler = request.runtimeHandler.isEmpty ? daemon.config.runtime.defaultRuntime : request.runtimeHandler
    guard daemon.config.runtime.runtimes[handler] != nil else {
      throw CRIError.invalidArgument(
        "runtime handler \"\(handler)\" is not configured (have: \(daemon.config.runtime.runtimes.keys.sorted().joined(separator: ", ")))")
    }
    let name = PodSandbox.reservedName(config.metadata)
    let configBytes: [UInt8] = try config.serializedBytes()
    let daemon = self.daemon
    // The creation runs to its end even if this caller's deadline passes;
    // kubelet's retry with the same name joins it or collects its result.
    let id = try await daemon.pods.supervisor.creations.create(name) {
      try await PodCreation(
        daemon: daemon, config: config, configBytes: configBytes, name: name, handler: handler, userNamespace: userNamespace
      ).run()
    }
    var response = Runtime_V1_RunPodSandboxResponse()
    response.podSandboxID = id
    return response
  }
}

/// One RunPodSandbox: each step undone if a later one fails, so a failed
/// creation leaves no namespace, mount, file or record behind.
struct PodCreation: Sendable {
  let daemon: DaemonContext
  let config: Runtime_V1_PodSandboxConfig
  let configBytes: [UInt8]
  let name: String
  let handler: String
  /// The pod's own user namespace mappings; nil shares the host's.
  let userNamespace: UserNamespaceMappings?

  func run() async throws -> String {
    let pods = daemon.pods
    let supervisor = pods.supervisor
    let id = PodContext.newID()
    if let holder = supervisor.names.reserve(name, for: id) {
      // The retry of a creation whose caller gave up gets that pod.
      let existing = supervisor.index.owner(holder)?.record
      if let existing, existing.configMessage == config, await supervisor.creations.claim(name, id: existing.id) {
        return existing.id
      }
      throw CRIError.alreadyExists(
        "pod sandbox name \"\(name)\" is reserved by \(existing == nil ? "a pod being created" : String(holder.prefix(12))); remove it first or use another attempt number")
    }

    let options = config.linux.securityContext.namespaceOptions
    let hostNetwork = options.network == .node
    let hostIPC = options.ipc == .node
    var undo: [() async -> Void] = [{ supervisor.names.release(name, of: id) }]
    do {
      let sysctls = try Sysctls.validate(
        Sysctls.withDefaults(daemon.config.runtime.defaultSysctls, hostNetwork: hostNetwork, hostIPC: hostIPC, logger: daemon.logger)
          .merging(config.linux.sysctls) { _, pods in pods },
        hostNetwork: hostNetwork, hostIPC: hostIPC)
      let cgroupParent: String
      do {
        cgroupParent = try CgroupNaming.parentFilesystemPath(driver: daemon.containers.cgroupDriver, parent: config.linux.cgroupParent)
      } catch {
        throw CRIError.invalidArgument("linux.cgroup_parent \(Quoting.doubleQuoted(config.linux.cgroupParent)): \(error)")
      }
      // The default parent is shared by every pod; one kubelet named is the
      // pod's own, and if it is not there yet, runc makes it for the first
      // container and this pod removes it again.
      let ownsCgroupParent = !config.linux.cgroupParent.isEmpty
        && (daemon.containers.cgroups?.cgroupExists(relativePath: cgroupParent) == false || supervisor.madeCgroupParent(cgroupParent))
      // `drop_infra_ctr = false`: every pod runs an infra container, from
      // the pause image, pulled now if it is not here (as CRI-O does).
      let pauseImage = daemon.config.runtime.dropInfraCtr ? nil : try await pauseImage()
      let directory = pods.podsDirectory + "/" + id
      try Files.makeDirectories(directory, mode: 0o700)
      undo.append { Files.removeTree(directory) }
      CrashPoints.reach("RunPodSandbox", 1)

      // runtime_type "pod": the pod's monitor, in its monitor cgroup,
      // before anything of the pod runs.
      let handlerConfig = daemon.config.runtime.runtimes[handler]
      let monitorCgroup = handlerConfig.flatMap { handler in
        handler.runtimeType == "pod"
          ? MonitorCgroup.path(handler: handler, manager: daemon.config.runtime.cgroupManager, podCgroup: cgroupParent, containerID: id)
          : nil
      }
      let podRuntime = try daemon.containers.runtime(handler: handler)
      let runtimeContext = PodRuntimeContext(id: id, directory: directory, monitorCgroup: monitorCgroup)
      try await podRuntime.startPod(runtimeContext)
      undo.append {
        await podRuntime.stopPod(runtimeContext)
        if let monitorCgroup { await MonitorCgroup.remove(monitorCgroup, logger: daemon.logger) }
      }

      // As CRI-O: kubelet names one; otherwise the node's (host network) or
      // the pod ID's first 12 digits (metadata names can exceed the
      // kernel's 64-byte hostname limit).
      let hostname = config.hostname.isEmpty ? (hostNetwork ? Self.nodeHostname() : String(id.prefix(12))) : config.hostname
      try Files.write(directory + "/hostname", hostname + "\n")
      try Files.write(directory + "/hosts", PodFiles.hosts(hostname: hostname))
      try Files.write(directory + "/resolv.conf", PodFiles.resolvConf(config.hasDnsConfig ? config.dnsConfig : nil))
      var ownedLogDirectory: String?
      if !config.logDirectory.isEmpty {
        try Files.makeDirectories(config.logDirectory, mode: 0o755)
      } else {
        // As CRI-O: log_dir/<pod ID>, the pod's own, so it goes with the pod.
        let logDirectory = daemon.config.logDir + "/" + id
        try Files.makeDirectories(logDirectory, mode: 0o755)
        undo.append { Files.removeTree(logDirectory) }
        ownedLogDirectory = logDirectory
      }

      var shmPath: String?
      if !hostIPC {
        let path = directory + "/shm"
        try PodFiles.mountShm(at: path)
        shmPath = path
        undo.append { PodFiles.unmount(path) }
        CrashPoints.reach("RunPodSandbox", 2)
      }

      if let userNamespace {
        // The pod's root owns its files, as it would without a user namespace.
        let (uid, gid) = (userNamespace.hostRootUID, userNamespace.hostRootGID)
        for path in ["hostname", "hosts", "resolv.conf", "shm"].map({ directory + "/" + $0 }) where Files.kind(of: path) != .missing {
          guard chown(path, uid, gid) == 0 else {
            throw CRIError.internal("cannot give \(path) to the pod's root (\(uid):\(gid)): \(SystemError("chown").reason)")
          }
        }
      }

      var kinds: [PinRequest.Kind] = []
      if !hostNetwork { kinds += [.network, .uts] }
      if !hostIPC { kinds.append(.ipc) }
      var namespaces = PinnedNamespaces()
      if !kinds.isEmpty {
        namespaces = try await pods.pinner.pin(PinRequest(
          name: id, directory: pods.namespacesDirectory, kinds: kinds,
          hostname: hostNetwork ? nil : hostname, sysctls: sysctls, userNamespace: userNamespace))
        let pinned = namespaces
        undo.append { try? NamespacePinner.unpin(pinned) }
        CrashPoints.reach("RunPodSandbox", 3)
      }
      var infra: PodInfra?
      if let pauseImage {
        // The infra is the shared PID namespace's PID 1, in place of the init.
        let started = try await startInfra(podID: id, directory: directory, namespaces: namespaces, image: pauseImage)
        infra = started
        undo.append { await initTeardown(podID: id, infraRootfs: started.rootfs) }
        if options.pid == .pod { namespaces.pidInit = started.process }
        CrashPoints.reach("RunPodSandbox", 4)
      } else if options.pid == .pod {
        namespaces.pidInit = try await startInit(podID: id, directory: directory, namespaces: namespaces)
        undo.append { await initTeardown(podID: id) }
        CrashPoints.reach("RunPodSandbox", 4)
      }

      var network: PodNetworkStatus?
      if let netns = namespaces.network {
        network = try await attachNetwork(podID: id, netns: netns)
        undo.append { await detachNetwork(podID: id, netns: netns) }
        CrashPoints.reach("RunPodSandbox", 5)
      }

      let pod = PodSandbox(
        id: id, name: name, config: configBytes, runtimeHandler: handler,
        createdAt: DaemonContext.now(),
        state: .ready, namespaces: namespaces, directory: directory, hostname: hostname,
        shmPath: shmPath, cgroupParent: cgroupParent, ownsCgroupParent: ownsCgroupParent, network: network,
        ownedLogDirectory: ownedLogDirectory, infra: infra, monitorCgroup: monitorCgroup)
      try await supervisor.register(pod)
      CrashPoints.reach("RunPodSandbox", 6)
      daemon.logger.info("Ran pod sandbox", metadata: ["id": "\(id)", "name": "\(name)"])
      return id
    } catch {
      for step in undo.reversed() { await step() }
      throw Self.criError(error)
    }
  }

  /// Runs the pod's init, the PID 1 its containers' shared PID namespace
  /// lives by, as a confined runc container named by the pod's ID (see
  /// PodInitSpec for why it is confined so).
  func startInit(podID: String, directory: String, namespaces: PinnedNamespaces) async throws -> PIDNamespaceInit {
    let runtime = try daemon.containers.runtime(handler: handler)
    if userNamespace != nil { try Files.makeTraversable(daemon.pods.initRoot) }
    let spec = try initSpec(podID: podID, root: daemon.pods.initRoot, namespaces: namespaces)
    let bundle = try OCIBundle.create(at: directory + "/init", spec: spec.build())
    let pid: Int32
    do {
      pid = try await runtime.runUnmonitored(id: podID, bundle: bundle)
    } catch {
      throw CRIError.internal("starting the init of pod \(name) (its shared PID namespace): \(error)")
    }
    guard let namespace = PIDNamespaceInit.namespaceName("/proc/\(pid)/ns/pid") else {
      await initTeardown(podID: podID)
      throw CRIError.internal("the init of pod \(name) (PID \(pid)) ended at once")
    }
    return PIDNamespaceInit(pid: pid, namespace: namespace)
  }

  /// The init's spec on `root` (the infra's is built on it).
  func initSpec(podID: String, root: String, namespaces: PinnedNamespaces) throws -> PodInitSpec {
    let cpuset = daemon.config.runtime.infraCtrCpuset
    return PodInitSpec(
      podID: podID, root: root, namespaces: namespaces, userNamespace: userNamespace,
      cgroupsPath: try ContainerCreation.cgroupsPath(driver: daemon.containers.cgroupDriver, id: podID, parent: config.linux.cgroupParent),
      cgroupV2: ContainerSpecHost.current.cgroupV2, cpuset: cpuset.isEmpty ? nil : cpuset)
  }

  /// Removes the init's (or infra's) runc state, which kills it, then the
  /// infra's root file system.
  func initTeardown(podID: String, infraRootfs: String? = nil) async {
    try? await daemon.containers.runtime(handler: handler).delete(id: podID, force: true)
    if let infraRootfs { ContainerRootfs.unmount(infraRootfs) }
  }

  /// CNI ADD on the default network (the plugins undo their own work when
  /// one fails). The ports kubelet asks for go to plugins with the
  /// `portMappings` capability, the pod CIDR to those with `ipRanges`.
  func attachNetwork(podID: String, netns: String) async throws -> PodNetworkStatus {
    let networks = daemon.network.watcher.current()
    guard let network = networks.defaultNetwork else {
      throw CRIError.failedPrecondition(
        "cannot attach pod \(name) to a network: " + (networks.notReadyReason ?? "no CNI network configured"))
    }
    let pod = CNIPodInfo(
      namespace: config.metadata.namespace, name: config.metadata.name, id: podID, uid: config.metadata.uid)
    var capabilities = CNICapabilityArgs()
    capabilities.portMappings = config.portMappings.filter { $0.hostPort > 0 }.map { mapping in
      CNIPortMapping(
        hostPort: Int(mapping.hostPort), containerPort: Int(mapping.containerPort),
        protocol: String(describing: mapping.protocol).lowercased(), hostIP: mapping.hostIp)
    }
    capabilities.ipRanges = CNICapabilityArgs.ipRanges(podCIDRs: [await daemon.state.podCIDR])
    capabilities.bandwidth = try BandwidthAnnotations.bandwidth(config.annotations)
    if !config.linux.cgroupParent.isEmpty { capabilities.cgroupPath = config.linux.cgroupParent }
    do {
      let result = try await daemon.network.cni.add(network: network, pod: pod, netnsPath: netns, capabilities: capabilities)
      let ips = result.podIPs.filter { !$0.hasPrefix("127.") && $0 != "::1" }
      daemon.logger.info("Attached pod to the network", metadata: ["pod": "\(podID)", "network": "\(network.name)", "ips": "\(ips)"])
      return PodNetworkStatus(networkName: network.name, ips: ips)
    } catch {
      throw CRIError.internal("setting up the network of pod \(name) (network \"\(network.name)\"): \(error)")
    }
  }

  func detachNetwork(podID: String, netns: String) async {
    try? await daemon.network.cni.delete(
      network: nil, pod: CNIPodInfo(namespace: config.metadata.namespace, name: config.metadata.name, id: podID, uid: config.metadata.uid),
      netnsPath: netns)
  }

  static func criError(_ error: any Error) -> CRIError {
    switch error {
    case let error as CRIError: error
    case let error as NamespaceError: .internal(error.description)
    case let error as SystemError: .internal("creating the pod sandbox: \(error)")
    default: .internal("creating the pod sandbox: \(error)")
    }
  }

  static func nodeHostname() -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    gethostname(&buffer, buffer.count)
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }
}
