import CRIAPI
import CRIClient
import OCI
import PodInit
import Support
import TestFixtures

/// Images the tests build themselves from Debian's busybox-static, pushed to
/// a real docker-registry on loopback, and a daemon configured to pull from it.
enum TestImages {
  /// A busybox root: the static binary, shell links, /etc files, a file and a
  /// directory that the app layer deletes or makes opaque.
  static func baseLayer() throws -> TarBuilder {
    var tar = TarBuilder()
    tar.directory("bin", mode: 0o755)
    tar.file("bin/busybox", try Files.readBytes("/bin/busybox"), mode: 0o755)
    for applet in ["sh", "echo", "cat", "ls", "id", "sleep", "true", "wget", "httpd", "ip", "mkdir", "hostname", "stty", "tty", "unshare", "dd", "wc", "nc"] {
      tar.symlink("bin/\(applet)", target: "busybox")
    }
    tar.directory("etc", mode: 0o755)
    tar.file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\napp:x:1000:1000::/home/app:/bin/sh\n")
    tar.file("etc/group", "root:x:0:\napp:x:1000:\n")
    tar.file("etc/removeme", "gone in the app layer\n")
    tar.directory("data", mode: 0o755)
    tar.file("data/old", "hidden by the opaque app layer\n")
    tar.directory("tmp", mode: 0o1777)
    return tar
  }

  /// An upper layer: a new file, a whiteout and an opaque directory.
  static func appLayer(marker: String = "app") -> TarBuilder {
    var tar = TarBuilder()
    tar.directory("srv", mode: 0o755)
    tar.file("srv/hello.txt", "hello from \(marker)\n", mode: 0o640, uid: 1000, gid: 1000)
    tar.whiteout("removeme", in: "etc")
    tar.directory("data", mode: 0o755)
    tar.opaque("data")
    tar.file("data/new", "only this\n")
    return tar
  }

  enum Compression { case gzip, zstd, none }

  static func layer(_ tar: TarBuilder, _ compression: Compression) throws -> (bytes: [UInt8], mediaType: String, diffID: Digest) {
    switch compression {
    case .gzip: (try tar.gzip(), MediaType.ociLayerGzip, tar.diffID)
    case .zstd: (try tar.zstd(), MediaType.ociLayerZstd, tar.diffID)
    case .none: (tar.bytes, MediaType.ociLayer, tar.diffID)
    }
  }

  static func config(architecture: String = "amd64", user: String = "1000:1000", volumes: [String] = []) -> ImageConfiguration {
    var defaults = ContainerDefaults()
    if !volumes.isEmpty {
      defaults.volumes = Dictionary(uniqueKeysWithValues: volumes.map { ($0, ContainerDefaults.Empty()) })
    }
    defaults.user = user
    defaults.env = ["PATH=/bin"]
    defaults.cmd = ["/bin/sh"]
    defaults.workingDir = "/srv"
    defaults.stopSignal = "SIGQUIT"
    return ImageConfiguration(architecture: architecture, os: "linux", config: defaults, rootfs: .init(diffIDs: []))
  }

  /// Pushes the two-layer busybox image as `repository:tag`.
  @discardableResult
  static func pushBusybox(
    to registry: RegistryServer, repository: String = "busybox", tag: String = "1",
    compression: Compression = .gzip, marker: String = "app", architecture: String = "amd64",
    credentials: (String, String)? = nil, volumes: [String] = []
  ) async throws -> PushedImage {
    let pusher = ImagePusher(host: registry.host, credentials: credentials)
    return try await pusher.pushImage(
      repository: repository, tag: tag,
      layers: [try layer(baseLayer(), compression), try layer(appLayer(marker: marker), compression)],
      config: config(architecture: architecture, volumes: volumes))
  }
}

extension TestImages {
  /// A pause image as Kubernetes builds it: one layer holding a static
  /// `/pause` (the daemon's own pod init, which sleeps and reaps until
  /// signalled), run as 65535:65535 with `/pause` as its entrypoint.
  @discardableResult
  static func pushPause(
    to registry: RegistryServer, repository: String = "pause", tag: String = "1", credentials: (String, String)? = nil
  ) async throws -> PushedImage {
    let root = try Files.makeTemporaryDirectory(prefix: "crio-pause-root")
    defer { Files.removeTree(root) }
    try PodInitBinary.installRoot(at: root)
    var tar = TarBuilder()
    tar.file("pause", try Files.readBytes(root + PodInitBinary.command), mode: 0o755)
    var defaults = ContainerDefaults()
    defaults.user = "65535:65535"
    defaults.entrypoint = [PodInitBinary.command]
    defaults.workingDir = "/"
    let config = ImageConfiguration(architecture: "amd64", os: "linux", config: defaults, rootfs: .init(diffIDs: []))
    return try await ImagePusher(host: registry.host, credentials: credentials).pushImage(
      repository: repository, tag: tag, layers: [try layer(tar, .gzip)], config: config)
  }

  /// crio.conf lines, following `pullConfiguration`'s `[crio.image]`, for
  /// an infra container in every pod from the registry's pause image.
  static func infraConfiguration(registry: RegistryServer, cpuset: String = "", more: String = "") -> String {
    """
    pause_image = "\(registry.host)/pause:1"
    \(more)
    [crio.runtime]
    drop_infra_ctr = false
    infra_ctr_cpuset = "\(cpuset)"
    """
  }
}

/// A daemon that pulls from `registry` (see `pullConfiguration`).
func withImageDaemon<Result: Sendable>(
  registry: RegistryServer,
  policy: String = #"{"default":[{"type":"insecureAcceptAnything"}]}"#,
  extraConfig: String = "",
  prepare: (String) throws -> Void = { _ in },
  _ body: (CRIConnection, DaemonProcess) async throws -> Result
) async throws -> Result {
  let dir = try Files.makeTemporaryDirectory(prefix: "crio-img")
  defer { Files.removeTree(dir) }
  let config = try registry.pullConfiguration(in: dir, policy: policy) + "\n" + extraConfig
  return try await withCRI(config: config, prepare: prepare) { cri, daemon in try await body(cri, daemon) }
}

extension CRIConnection {
  func pull(_ image: String, auth: Runtime_V1_AuthConfig? = nil) async throws -> String {
    var request = Runtime_V1_PullImageRequest()
    request.image.image = image
    if let auth { request.auth = auth }
    return try await self.image.pullImage(request).imageRef
  }

  func status(_ image: String, verbose: Bool = false) async throws -> Runtime_V1_ImageStatusResponse {
    try await self.image.imageStatus(Runtime_V1_ImageStatusRequest.with {
      $0.image.image = image
      $0.verbose = verbose
    })
  }

  func listImages() async throws -> [Runtime_V1_Image] {
    try await image.listImages(Runtime_V1_ListImagesRequest()).images
  }

  func remove(_ image: String) async throws {
    _ = try await self.image.removeImage(Runtime_V1_RemoveImageRequest.with { $0.image.image = image })
  }
}

extension DaemonProcess {
  var layersDirectory: String { directory + "/root/layers" }

  /// The unpacked layer directories on disk.
  func unpackedLayers() -> [String] {
    ((try? Files.list(layersDirectory)) ?? []).sorted()
  }

  /// Files left in the storage root's staging area.
  func stagingLeftovers() -> [String] {
    (try? Files.list(directory + "/root/tmp")) ?? []
  }
}
