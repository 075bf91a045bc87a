import CRIAPI
import CRIClient
import OCI
import Support
import SwiftProtobuf
import TestFixtures

/// The one-layer busybox image the benchmarks run: the static binary, the
/// applets they use, and the directories a container root needs.
enum BenchImage {
  /// Pushes it as `repository:1`; returns the layer (the runc floor unpacks it).
  @discardableResult
  static func push(to registry: RegistryServer, repository: String, applets: [String], cmd: [String]? = nil) async throws -> TarBuilder {
    var tar = TarBuilder()
    tar.directory("bin", mode: 0o755)
    tar.file("bin/busybox", try Files.readBytes("/bin/busybox"), mode: 0o755)
    for applet in applets { tar.symlink("bin/\(applet)", target: "busybox") }
    for directory in ["proc", "sys", "dev", "etc", "tmp"] { tar.directory(directory, mode: 0o755) }
    var defaults = ContainerDefaults()
    defaults.cmd = cmd
    _ = try await ImagePusher(host: registry.host).pushImage(
      repository: repository, tag: "1", layers: [(try tar.gzip(), MediaType.ociLayerGzip, tar.diffID)],
      config: ImageConfiguration(architecture: Platform.current.architecture, os: "linux", config: defaults, rootfs: .init(diffIDs: [])))
    return tar
  }

  /// Pushes an image of `layers` gzip layers of `mibPerLayer` MiB of
  /// random bytes each (gzip cannot shrink them), different for each `seed`.
  static func pushRandom(
    to registry: RegistryServer, repository: String, tag: String = "1", layers: Int, mibPerLayer: Int, seed: UInt64 = 0
  ) async throws -> (image: PushedImage, bytes: Int) {
    var builders: [(bytes: [UInt8], mediaType: String, diffID: Digest)] = []
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ (seed &* 0x2545_F491_4F6C_DD1D)
    for index in 0..<layers {
      var tar = TarBuilder()
      var payload = [UInt8](repeating: 0, count: mibPerLayer << 20)
      for i in stride(from: 0, to: payload.count, by: 8) {
        // xorshift: cheap bytes gzip cannot shrink.
        state ^= state << 13; state ^= state >> 7; state ^= state << 17
        withUnsafeBytes(of: state) { raw in
          for j in 0..<min(8, payload.count - i) { payload[i + j] = raw[j] }
        }
      }
      tar.file("layer\(index)/blob", payload)
      builders.append((try tar.gzip(), MediaType.ociLayerGzip, tar.diffID))
    }
    let image = try await ImagePusher(host: registry.host).pushImage(
      repository: repository, tag: tag, layers: builders,
      config: ImageConfiguration(architecture: Platform.current.architecture, os: "linux", rootfs: .init(diffIDs: [])))
    return (image, builders.reduce(0) { $0 + $1.bytes.count })
  }
}

/// A pod the benchmarks run containers of one image in.
struct BenchPod {
  let cri: CRIConnection
  let config: Runtime_V1_PodSandboxConfig
  let id: String
  let image: String

  static func run(_ cri: CRIConnection, name: String, image: String) async throws -> BenchPod {
    let config = Runtime_V1_PodSandboxConfig.with {
      $0.metadata.name = name
      $0.metadata.namespace = "bench"
      $0.metadata.uid = "uid-\(name)"
    }
    let id = try await cri.runtime.runPodSandbox(.with { $0.config = config }).podSandboxID
    return BenchPod(cri: cri, config: config, id: id, image: image)
  }

  /// Creates and starts a container running `command`; its ID.
  func start(_ name: String, _ command: [String]) async throws -> String {
    let containerID = try await cri.runtime.createContainer(.with {
      $0.podSandboxID = id
      $0.sandboxConfig = config
      $0.config = .with {
        $0.metadata.name = name
        $0.image.image = image
        $0.command = command
      }
    }).containerID
    _ = try await cri.runtime.startContainer(.with { $0.containerID = containerID })
    return containerID
  }

  func remove() async throws {
    _ = try await cri.runtime.stopPodSandbox(.with { $0.podSandboxID = id })
    _ = try await cri.runtime.removePodSandbox(.with { $0.podSandboxID = id })
  }
}

extension BenchPod {
  /// Runs `body` against a fresh daemon that has pulled a busybox image with
  /// `applets` (from a loopback registry) and runs one pod named `name`;
  /// the pod is removed after `body`, the daemon cleaned up in any case.
  static func withDaemon(
    name: String, applets: [String], _ body: (CRIConnection, DaemonProcess, BenchPod) async throws -> Void
  ) async throws {
    try await RegistryServer.withRunning { registry in
      let dir = try Files.makeTemporaryDirectory(prefix: "crio-bench")
      defer { Files.removeTree(dir) }
      try await BenchImage.push(to: registry, repository: name, applets: applets)
      let daemon = try DaemonProcess(config: try registry.pullConfiguration(in: dir))
      try await withCleanUp {
        try await daemon.waitUntilReady(timeout: .seconds(30))
        try await CRIConnection.with(socket: daemon.socket) { cri in
          let image = "\(registry.host)/\(name):1"
          _ = try await cri.image.pullImage(.with { $0.image.image = image })
          let pod = try await BenchPod.run(cri, name: name, image: image)
          try await body(cri, daemon, pod)
          try await pod.remove()
        }
      } cleanUp: {
        await daemon.cleanUp()
      }
    }
  }
}
