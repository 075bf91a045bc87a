#if canImport(Glibc)
import Glibc
#endif
import CRIAPI
import CRIClient
import GRPCCore
import OCI
import Support
import TestFixtures
import Testing

/// The image RPCs as crictl pull/images/inspecti/rmi/imagefsinfo use them,
/// against a real docker-registry on loopback.
@Suite struct ImageServiceTests {
  @Test func pullListInspectAndRemove() async throws {
    try await RegistryServer.withRunning { registry in
      let pushed = try await TestImages.pushBusybox(to: registry)
      try await withImageDaemon(registry: registry) { cri, daemon in
        let name = "\(registry.host)/busybox:1"
        let ref = try await cri.pull(name)
        #expect(ref == pushed.configDigest.hex, "PullImage returns the image ID")

        let images = try await cri.listImages()
        #expect(images.count == 1)
        let image = try #require(images.first)
        #expect(image.id == pushed.configDigest.hex)
        #expect(image.repoTags == [name])
        #expect(image.repoDigests == ["\(registry.host)/busybox@\(pushed.manifestDigest)"])
        #expect(image.size > 1_000_000, "the size counts the compressed layers")
        #expect(image.uid.value == 1000, "the config's User feeds kubelet's runAsNonRoot check")

        // Every way crictl names an image finds it.
        for alias in [name, pushed.configDigest.hex, String(pushed.configDigest.hex.prefix(12)),
                      pushed.configDigest.description, "\(registry.host)/busybox@\(pushed.manifestDigest)", "busybox:1"] {
          let status = try await cri.status(alias)
          #expect(status.image.id == pushed.configDigest.hex, "lookup by \(alias)")
        }
        let verbose = try await cri.status(name, verbose: true)
        let info = try #require(verbose.info["info"])
        #expect(info.contains(pushed.manifestDigest.description))
        #expect(info.contains(#""Cmd":["/bin/sh"]"#))

        // An unknown image is an empty answer, not an error.
        #expect(try await cri.status("\(registry.host)/nothing:here").hasImage == false)

        // Both layers are unpacked, whiteouts in overlay form.
        let layers = daemon.unpackedLayers()
        #expect(layers.count == 2)
        let chain = chainIDs(of: [try TestImages.baseLayer().diffID, TestImages.appLayer().diffID])
        let base = daemon.layersDirectory + "/" + chain[0].hex + "/diff"
        let app = daemon.layersDirectory + "/" + chain[1].hex + "/diff"
        var info2 = stat()
        #expect(stat(base + "/bin/busybox", &info2) == 0 && info2.st_mode & 0o777 == 0o755)
        #expect(lstat(app + "/etc/removeme", &info2) == 0 && info2.st_mode & S_IFMT == S_IFCHR && info2.st_rdev == 0)
        #expect(Files.extendedAttribute("trusted.overlay.opaque", of: app + "/data") == Array("y".utf8))
        #expect(stat(app + "/srv/hello.txt", &info2) == 0 && info2.st_uid == 1000 && info2.st_mode & 0o777 == 0o640)

        try await cri.remove(pushed.configDigest.hex)
        #expect(try await cri.listImages().isEmpty)
        #expect(daemon.unpackedLayers().isEmpty, "layers no image uses are removed")
        // Removing again succeeds (the call is idempotent).
        try await cri.remove(pushed.configDigest.hex)
      }
    }
  }

  @Test(arguments: [TestImages.Compression.gzip, .zstd, .none])
  func everyLayerCompressionUnpacks(compression: TestImages.Compression) async throws {
    try await RegistryServer.withRunning { registry in
      let pushed = try await TestImages.pushBusybox(to: registry, compression: compression)
      try await withImageDaemon(registry: registry) { cri, daemon in
        #expect(try await cri.pull("\(registry.host)/busybox:1") == pushed.configDigest.hex)
        let chain = chainIDs(of: [try TestImages.baseLayer().diffID, TestImages.appLayer().diffID])
        #expect(access(daemon.layersDirectory + "/" + chain[1].hex + "/diff/srv/hello.txt", F_OK) == 0)
      }
    }
  }

  /// `pinned_images` (and the pause image) come back as the CRI's
  /// `pinned`, which keeps kubelet's image GC off them.
  @Test func pinnedImagesAreReportedPinned() async throws {
    try await RegistryServer.withRunning { registry in
      try await TestImages.pushBusybox(to: registry)
      try await TestImages.pushBusybox(to: registry, repository: "other", marker: "other")
      // A drop-in, as an operator adds one (crio.conf has its [crio.image] already).
      let dropIn = "[crio.image]\npinned_images = [\"\(registry.host)/busybox:*\"]\n"
      try await withImageDaemon(registry: registry, prepare: { directory in
        try Files.makeDirectories(directory + "/crio.conf.d", mode: 0o755)
        try Files.write(directory + "/crio.conf.d/50-pinned.conf", dropIn)
      }) { cri, _ in
        _ = try await cri.pull("\(registry.host)/busybox:1")
        _ = try await cri.pull("\(registry.host)/other:1")
        let status = try await cri.image.imageStatus(.with { $0.image.image = "\(registry.host)/busybox:1" })
        #expect(status.image.pinned)
        let listed = try await cri.listImages()
        #expect(listed.first { $0.repoTags.contains("\(registry.host)/busybox:1") }?.pinned == true)
        #expect(listed.first { $0.repoTags.contains("\(registry.host)/other:1") }?.pinned == false)
      }
    }
  }

  @Test func pulledLayersMountAsOverlay() async throws {
    try await RegistryServer.withRunning { registry in
      try await TestImages.pushBusybox(to: registry)
      try await withImageDaemon(registry: registry) { cri, daemon in
        _ = try await cri.pull("\(registry.host)/busybox:1")
        let chain = chainIDs(of: [try TestImages.baseLayer().diffID, TestImages.appLayer().diffID])
        let lower = chain.reversed().map { daemon.layersDirectory + "/" + $0.hex + "/diff" }.joined(separator: ":")
        let mountpoint = daemon.directory + "/merged"
        try Files.makeDirectories(mountpoint, mode: 0o755)
        #expect(mount("overlay", mountpoint, "overlay", 0, "lowerdir=\(lower)") == 0, "mount: \(SystemError("mount").reason)")
        defer { umount2(mountpoint, Int32(MNT_DETACH)) }
        #expect(access(mountpoint + "/bin/busybox", X_OK) == 0)
        #expect(access(mountpoint + "/etc/removeme", F_OK) != 0, "the whiteout hides the lower file")
        #expect(access(mountpoint + "/data/old", F_OK) != 0, "the opaque directory hides lower contents")
        #expect(try Files.read(mountpoint + "/data/new") == "only this\n")
      }
    }
  }

  @Test func shortNamesResolveThroughTheSearchRegistries() async throws {
    try await RegistryServer.withRunning { registry in
      let pushed = try await TestImages.pushBusybox(to: registry, tag: "latest")
      try await withImageDaemon(registry: registry) { cri, _ in
        #expect(try await cri.pull("busybox") == pushed.configDigest.hex)
        let image = try #require(try await cri.listImages().first)
        #expect(image.repoTags == ["\(registry.host)/busybox:latest"])
        #expect(try await cri.status("busybox").image.id == pushed.configDigest.hex)
      }
    }
  }

  @Test func anIndexGivesTheNodesPlatform() async throws {
    try await RegistryServer.withRunning { registry in
      let arm = try await TestImages.pushBusybox(to: registry, repository: "multi", tag: "arm", marker: "arm", architecture: "arm64")
      let amd = try await TestImages.pushBusybox(to: registry, repository: "multi", tag: "amd", marker: "amd", architecture: "amd64")
      try await ImagePusher(host: registry.host).pushIndex(
        repository: "multi", tag: "both",
        manifests: [(arm, Platform(os: "linux", architecture: "arm64")), (amd, Platform(os: "linux", architecture: "amd64"))])
      try await withImageDaemon(registry: registry) { cri, _ in
        let expected = Platform.current.architecture == "arm64" ? arm : amd
        let ref = try await cri.pull("\(registry.host)/multi:both")
        #expect(ref == expected.configDigest.hex)
      }
    }
  }

  @Test func tagsMoveAndRemovalUntagsFirst() async throws {
    try await RegistryServer.withRunning { registry in
      let first = try await TestImages.pushBusybox(to: registry, repository: "app", tag: "v1", marker: "one")
      try await ImagePusher(host: registry.host).pushManifest(
        repository: "app", reference: "stable", mediaType: first.mediaType, bytes: first.manifestBytes)
      try await withImageDaemon(registry: registry) { cri, _ in
        _ = try await cri.pull("\(registry.host)/app:v1")
        _ = try await cri.pull("\(registry.host)/app:stable")
        var image = try #require(try await cri.listImages().first)
        #expect(Set(image.repoTags) == ["\(registry.host)/app:v1", "\(registry.host)/app:stable"])

        // Removing one of two tags only untags.
        try await cri.remove("\(registry.host)/app:v1")
        image = try #require(try await cri.listImages().first)
        #expect(image.repoTags == ["\(registry.host)/app:stable"])

        // "stable" moves to a new image; the old one keeps no tag.
        let second = try await TestImages.pushBusybox(to: registry, repository: "app", tag: "stable", marker: "two")
        _ = try await cri.pull("\(registry.host)/app:stable")
        let images = try await cri.listImages()
        #expect(images.count == 2)
        #expect(images.first { $0.id == second.configDigest.hex }?.repoTags == ["\(registry.host)/app:stable"])
        #expect(images.first { $0.id == first.configDigest.hex }?.repoTags == [])
      }
    }
  }

  @Test func concurrentPullsOfOneImageShareTheWork() async throws {
    try await RegistryServer.withRunning { registry in
      let pushed = try await TestImages.pushBusybox(to: registry)
      try await withImageDaemon(registry: registry) { cri, daemon in
        let refs = try await withThrowingTaskGroup(of: String.self) { group in
          for _ in 0..<6 { group.addTask { try await cri.pull("\(registry.host)/busybox:1") } }
          return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(refs == Array(repeating: pushed.configDigest.hex, count: 6))
        #expect(try await cri.listImages().count == 1)
        #expect(daemon.unpackedLayers().count == 2)
        #expect(daemon.stagingLeftovers().isEmpty)
      }
    }
  }

  @Test func imageFsInfoCountsTheStore() async throws {
    try await RegistryServer.withRunning { registry in
      try await TestImages.pushBusybox(to: registry)
      try await withImageDaemon(registry: registry) { cri, daemon in
        let before = try await cri.image.imageFsInfo(Runtime_V1_ImageFsInfoRequest())
        _ = try await cri.pull("\(registry.host)/busybox:1")
        let after = try await cri.image.imageFsInfo(Runtime_V1_ImageFsInfoRequest())
        let usage = try #require(after.imageFilesystems.first)
        #expect(usage.fsID.mountpoint == daemon.directory + "/root")
        #expect(usage.usedBytes.value >= 1_900_000, "busybox alone is ~1.9 MB")
        #expect(usage.inodesUsed.value > before.imageFilesystems[0].inodesUsed.value)
        #expect(usage.timestamp > 0)
        #expect(after.containerFilesystems.count == 1)
      }
    }
  }
}
