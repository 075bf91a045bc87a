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

/// Pulls that must fail with the right status, a message a person can act
/// on, and nothing left behind: no image record, no layer, no staging file.
@Suite struct ImagePullFailureTests {
  /// Asserts the pull fails with `code` and leaves the store empty.
  func expectFailure(
    _ cri: CRIConnection, _ daemon: DaemonProcess, pulling image: String, code: RPCError.Code, mentioning text: String,
    auth: Runtime_V1_AuthConfig? = nil
  ) async throws {
    do {
      _ = try await cri.pull(image, auth: auth)
      Issue.record("pulling \(image) succeeded")
    } catch let error as RPCError {
      #expect(error.code == code, "\(error)")
      #expect(error.message.contains(text), "message: \(error.message)")
    }
    #expect(try await cri.listImages().isEmpty)
    #expect(daemon.unpackedLayers().isEmpty)
    #expect(daemon.stagingLeftovers().isEmpty)
  }

  @Test func badReferencesAreInvalidArguments() async throws {
    try await RegistryServer.withRunning { registry in
      try await withImageDaemon(registry: registry) { cri, daemon in
        try await expectFailure(cri, daemon, pulling: "\(registry.host)/UPPER:case", code: .invalidArgument, mentioning: "UPPER")
        try await expectFailure(cri, daemon, pulling: "", code: .invalidArgument, mentioning: "image")
        try await expectFailure(cri, daemon, pulling: "\(registry.host)/a@sha256:nothex", code: .invalidArgument, mentioning: "sha256")
      }
    }
  }

  @Test func anUnknownImageIsNotFound() async throws {
    try await RegistryServer.withRunning { registry in
      try await withImageDaemon(registry: registry) { cri, daemon in
        try await expectFailure(cri, daemon, pulling: "\(registry.host)/absent:1", code: .notFound, mentioning: "absent")
      }
    }
  }

  @Test func aRegistryThatIsDownIsUnavailable() async throws {
    let registry = try await RegistryServer.start()
    let host = registry.host
    try await withImageDaemon(registry: registry) { cri, daemon in
      await registry.stop()
      try await expectFailure(cri, daemon, pulling: "\(host)/busybox:1", code: .unavailable, mentioning: host)
    }
  }

  @Test func aTamperedBlobIsRefused() async throws {
    try await RegistryServer.withRunning { registry in
      let pushed = try await TestImages.pushBusybox(to: registry)
      // Corrupt the app layer inside the registry's own storage.
      let layer = pushed.manifest.layers[1].digest
      let path = registry.blobDataPath(layer)
      var bytes = try Files.readBytes(path)
      bytes[bytes.count / 2] ^= 0xff
      let fd = open(path, O_WRONLY | O_TRUNC)
      try Files.writeAll(fd, bytes)
      close(fd)
      try await withImageDaemon(registry: registry) { cri, daemon in
        try await expectFailure(cri, daemon, pulling: "\(registry.host)/busybox:1", code: .dataLoss, mentioning: layer.description)
      }
    }
  }

  /// Layer entries that try to write outside the layer root.
  enum Escape: String, CaseIterable, Sendable {
    case dotDot, nestedDotDot, symlinkToRoot, relativeSymlink, hardLinkOutside

    func craft(_ tar: inout TarBuilder) {
      switch self {
      case .dotDot: tar.file("../escaped", "x")
      case .nestedDotDot: tar.file("a/../../escaped", "x")
      case .symlinkToRoot:
        tar.symlink("link", target: "/")
        tar.file("link/escaped", "x")
      case .relativeSymlink:
        tar.symlink("up", target: "../../../..")
        tar.file("up/escaped", "x")
      case .hardLinkOutside: tar.hardlink("passwd", target: "../../../../etc/passwd")
      }
    }
  }

  @Test(arguments: Escape.allCases)
  func maliciousLayersAreRefused(kind: Escape) async throws {
    try await RegistryServer.withRunning { registry in
      var evil = TarBuilder()
      kind.craft(&evil)
      let pusher = ImagePusher(host: registry.host)
      _ = try await pusher.pushImage(
        repository: "evil", tag: "1",
        layers: [try TestImages.layer(TestImages.baseLayer(), .gzip), try TestImages.layer(evil, .gzip)],
        config: TestImages.config())
      try await withImageDaemon(registry: registry) { cri, daemon in
        try await expectFailure(cri, daemon, pulling: "\(registry.host)/evil:1", code: .failedPrecondition, mentioning: "layer")
        #expect(access(daemon.directory + "/root/escaped", F_OK) != 0, "\(kind): nothing written outside the layer")
        #expect(access(daemon.directory + "/escaped", F_OK) != 0, "\(kind): nothing written outside the layer")
        #expect(access("/escaped", F_OK) != 0, "\(kind): nothing written outside the layer")
      }
    }
  }

  @Test func aPolicyThatRejectsStopsThePull() async throws {
    try await RegistryServer.withRunning { registry in
      try await TestImages.pushBusybox(to: registry)
      try await withImageDaemon(registry: registry, policy: #"{"default":[{"type":"reject"}]}"#) { cri, daemon in
        try await expectFailure(cri, daemon, pulling: "\(registry.host)/busybox:1", code: .permissionDenied, mentioning: "policy")
      }
    }
  }

  @Test func basicAuthNeedsTheRightCredentials() async throws {
    try await RegistryServer.withRunning(basicAuth: (user: "alice", password: "s3cret")) { registry in
      let pushed = try await TestImages.pushBusybox(to: registry, credentials: ("alice", "s3cret"))
      try await withImageDaemon(registry: registry) { cri, daemon in
        let name = "\(registry.host)/busybox:1"
        try await expectFailure(cri, daemon, pulling: name, code: .unauthenticated, mentioning: registry.host)
        try await expectFailure(
          cri, daemon, pulling: name, code: .unauthenticated, mentioning: registry.host,
          auth: Runtime_V1_AuthConfig.with { $0.username = "alice"; $0.password = "wrong" })
        let ref = try await cri.pull(name, auth: Runtime_V1_AuthConfig.with { $0.username = "alice"; $0.password = "s3cret" })
        #expect(ref == pushed.configDigest.hex)
        // The CRI's base64 `auth` form works too.
        try await cri.remove(ref)
        let encoded = Runtime_V1_AuthConfig.with { $0.auth = "YWxpY2U6czNjcmV0" }  // alice:s3cret
        #expect(try await cri.pull(name, auth: encoded) == pushed.configDigest.hex)
      }
    }
  }

  /// `global_auth_file`: a pull whose request carries no credentials uses
  /// the file's for the registry; the request's own still win.
  @Test func theGlobalAuthFileServesPullsWithoutCredentials() async throws {
    try await RegistryServer.withRunning(basicAuth: (user: "alice", password: "s3cret")) { registry in
      let pushed = try await TestImages.pushBusybox(to: registry, credentials: ("alice", "s3cret"))
      let directory = try Files.makeTemporaryDirectory(prefix: "crio-auth")
      defer { Files.removeTree(directory) }
      let authFile = directory + "/auth.json"
      try Files.write(authFile, #"{"auths": {"\#(registry.host)": {"auth": "YWxpY2U6czNjcmV0"}}}"#, mode: 0o600)  // alice:s3cret
      try await withImageDaemon(registry: registry, prepare: { daemonDirectory in
        try Files.makeDirectories(daemonDirectory + "/crio.conf.d", mode: 0o755)
        try Files.write(daemonDirectory + "/crio.conf.d/50-auth.conf", "[crio.image]\nglobal_auth_file = \"\(authFile)\"\n")
      }) { cri, daemon in
        let name = "\(registry.host)/busybox:1"
        #expect(try await cri.pull(name) == pushed.configDigest.hex)
        try await cri.remove(pushed.configDigest.hex)
        try await expectFailure(
          cri, daemon, pulling: name, code: .unauthenticated, mentioning: registry.host,
          auth: Runtime_V1_AuthConfig.with { $0.username = "alice"; $0.password = "wrong" })
        // The file is read at each pull: wrong credentials there fail the next one.
        try Files.write(authFile, #"{"auths": {"\#(registry.host)": {"auth": "YWxpY2U6d3Jvbmc="}}}"#, mode: 0o600)
        try await expectFailure(cri, daemon, pulling: name, code: .unauthenticated, mentioning: registry.host)
      }
    }
  }

  @Test func interruptedDownloadsAreCleanedAtStart() async throws {
    // What a daemon killed in the middle of a pull leaves behind.
    let daemon = try DaemonProcess(prepare: { directory in
      try Files.makeDirectories(directory + "/root/tmp", mode: 0o700)
      try Files.write(directory + "/root/tmp/partial-download", "half a layer")
    })
    do {
      try await daemon.waitUntilReady()
      #expect(daemon.stagingLeftovers().isEmpty)
    } catch {
      Issue.record("\(error)")
    }
    await daemon.cleanUp()
  }
}
