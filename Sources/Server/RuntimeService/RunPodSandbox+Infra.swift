import Config
import Logging
import OCI
import PodNetwork
import Runtime
import Storage
import Support

extension PodCreation {
  /// `pause_image`, pulled when it is not here yet (CRI-O pulls it when a
  /// pod needs it, not at start-up), with the credentials of
  /// `pause_image_auth_file` when that is set.
  func pauseImage() async throws -> ImageRecord {
    let settings = daemon.config.image
    if let record = try daemon.images.lookUp(settings.pauseImage) { return record }
    let authFile = PauseImage.authFile(pauseImageAuthFile: settings.pauseImageAuthFile, globalAuthFile: settings.globalAuthFile)
    do {
      return try await daemon.images.puller.pull(settings.pauseImage, credentials: nil, authFile: authFile)
    } catch {
      throw CRIError.image(error).prefixed(
        "pulling the pause image \(Quoting.doubleQuoted(settings.pauseImage)) for pod \(name) ([crio.image] pause_image)")
    }
  }

  /// Mounts the pause image's root in the pod's directory and runs the
  /// infra container on it (see PodInfraSpec); on failure nothing of it
  /// is left.
  func startInfra(podID: String, directory: String, namespaces: PinnedNamespaces, image: ImageRecord) async throws -> PodInfra {
    let imageName = daemon.config.image.pauseImage
    let imageConfig = try OCIJSON.decode(ImageConfiguration.self, from: image.config, kind: "image config")
    let command = try PauseImage.command(configured: daemon.config.image.pauseCommand, image: imageConfig.config, imageName: imageName)
    let runtime = try daemon.containers.runtime(handler: handler)
    let bundlePath = PodInfra.bundle(podDirectory: directory)
    let rootfs = PodInfra.rootfs(podDirectory: directory)
    // In a pod with its own user namespace the image's files are its root's.
    let podUserNamespace = userNamespace.flatMap { mappings in
      namespaces.user.map { PodUserNamespace(path: $0, mappings: mappings) }
    }
    try ContainerRootfs.mount(
      lowerDirectories: image.layers.map { daemon.images.layers.diffPath(chainID: $0) },
      layerDirectory: bundlePath, merged: rootfs, userNamespace: podUserNamespace)
    CrashPoints.reach("RunPodSandboxInfra", 1)
    do {
      if userNamespace != nil {
        for path in [directory, bundlePath, rootfs] { try Files.makeTraversable(path) }
      }
      let spec = PodInfraSpec(
        base: try initSpec(podID: podID, root: rootfs, namespaces: namespaces), command: command,
        imageUser: imageConfig.config?.user, oomScoreAdjFloor: daemon.containers.oomScoreAdjFloor,
        ulimits: daemon.config.runtime.ulimits)
      let bundle = try await Blocking.run { () throws(RuntimeError) in try OCIBundle.create(at: bundlePath, spec: spec.build()) }
      let pid: Int32
      do {
        pid = try await runtime.runUnmonitored(id: podID, bundle: bundle)
      } catch {
        throw CRIError.runtime(error, "starting the infra container of pod \(name) (pause image \(Quoting.doubleQuoted(imageName)), command \(command))")
      }
      guard let namespace = PIDNamespaceInit.namespaceName("/proc/\(pid)/ns/pid") else {
        await initTeardown(podID: podID)
        throw CRIError.internal(
          "the infra container of pod \(name) (PID \(pid), command \(command)) ended at once; pause_command must not exit")
      }
      daemon.logger.info("Started the pod's infra container", metadata: ["pod": "\(podID)", "pid": "\(pid)", "image": "\(image.id.hex)"])
      return PodInfra(process: PIDNamespaceInit(pid: pid, namespace: namespace), imageID: image.id.hex, rootfs: rootfs)
    } catch {
      ContainerRootfs.unmount(rootfs)
      throw error
    }
  }
}
