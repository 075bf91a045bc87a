import CRIAPI
import CRIClient
import GRPCCore
import Support
import TestFixtures
import Testing

/// `[crio.image]` keys as an operator sets them, through PullImage against a
/// real registry on loopback.
@Suite struct ImageConfigKeysTests {
  static func dropIn(_ text: String) -> (String) throws -> Void {
    { directory in
      try Files.makeDirectories(directory + "/crio.conf.d", mode: 0o755)
      try Files.write(directory + "/crio.conf.d/50-image.conf", "[crio.image]\n" + text)
    }
  }

  static func pull(_ cri: CRIConnection, _ image: String, namespace: String?) async throws {
    _ = try await cri.image.pullImage(.with {
      $0.image.image = image
      if let namespace { $0.sandboxConfig.metadata.namespace = namespace }
    })
  }

  /// signature_policy_dir: a pod's namespace with its own policy gets it; others the global one.
  @Test func aNamespacesOwnPolicyDecidesItsPulls() async throws {
    try await RegistryServer.withRunning { registry in
      try await TestImages.pushBusybox(to: registry)
      let image = "\(registry.host)/busybox:1"
      var policies = ""
      let prepare = { (directory: String) throws in
        policies = directory + "/policies"
        try Files.makeDirectories(policies, mode: 0o755)
        try Files.write(policies + "/locked.json", #"{"default":[{"type":"reject"}]}"#)
        try Self.dropIn("signature_policy_dir = \"\(policies)\"\n")(directory)
      }
      try await withImageDaemon(registry: registry, prepare: prepare) { cri, _ in
        let refused = await rpcError { try await Self.pull(cri, image, namespace: "locked") }
        #expect(refused?.code == .permissionDenied, "\(String(describing: refused))")
        let images = try await cri.image.listImages(.init()).images
        #expect(images.isEmpty)
        try await Self.pull(cri, image, namespace: "open")
        try await Self.pull(cri, image, namespace: nil)
        let traversal = await rpcError { try await Self.pull(cri, image, namespace: "../locked") }
        #expect(traversal?.code == .invalidArgument)
      }
    }
  }

  /// auto_reload_registries: a registries.conf drop-in written while the
  /// daemon runs counts at the next pull; without the key it waits for a restart.
  @Test(arguments: [true, false])
  func registriesAreReadAgainWhenTheyChange(autoReload: Bool) async throws {
    try await RegistryServer.withRunning { registry in
      try await TestImages.pushBusybox(to: registry)
      try await withImageDaemon(registry: registry, prepare: Self.dropIn("auto_reload_registries = \(autoReload)\n")) { cri, daemon in
        let config = try Files.read(daemon.configFile)
        let confDir = try #require(config.split(separator: "\n").first { $0.hasPrefix("registries_conf_dir") })
          .split(separator: "\"")[1]
        try Files.makeDirectories(String(confDir), mode: 0o755)
        try Files.write(String(confDir) + "/50-alias.conf", "[aliases]\n\"web\" = \"\(registry.host)/busybox\"\n")
        let error = await rpcError { try await Self.pull(cri, "web:1", namespace: nil) }
        if autoReload {
          #expect(error == nil, "\(String(describing: error))")
        } else {
          #expect(error?.code == .notFound, "\(String(describing: error))")
        }
      }
    }
  }

  /// big_files_temporary_dir: layer downloads are staged there; start-up
  /// removes the daemon's leftovers from it and leaves everyone else's.
  @Test func layerDownloadsUseTheBigFilesDirectory() async throws {
    try await RegistryServer.withRunning { registry in
      try await TestImages.pushBusybox(to: registry)
      var big = ""
      let prepare = { (directory: String) throws in
        big = directory + "/big"
        try Files.makeDirectories(big, mode: 0o755)
        try Files.write(big + "/crio-layer-123-left-by-a-crash", "partial")
        try Files.write(big + "/someone-elses", "keep")
        try Self.dropIn("big_files_temporary_dir = \"\(big)\"\n")(directory)
      }
      try await withImageDaemon(registry: registry, prepare: prepare) { cri, _ in
        #expect(try Files.list(big) == ["someone-elses"])
        try await Self.pull(cri, "\(registry.host)/busybox:1", namespace: nil)
        #expect(try Files.list(big) == ["someone-elses"], "downloads are removed once unpacked")
      }
    }
  }
}
