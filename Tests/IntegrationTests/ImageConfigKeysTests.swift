import CRIAPI
import CRIClient
import GRPCCore
import Support
import TestFixtures
import Testing

#if canImport(Glibc)
import Glibc
#endif

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

  /// big_files_temporary_dir: layers stream into storage, so a pull stages
  /// nothing there; start-up removes the downloads earlier builds left and
  /// leaves everyone else's files.
  @Test func nothingIsStagedInTheBigFilesDirectory() async throws {
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
        #expect(try Files.list(big) == ["someone-elses"], "nothing is staged")
      }
    }
  }

  /// SIGHUP applies CRI-O's reloadable keys (here pinned_images and a new
  /// runtime handler), names the changes that need a restart, and refuses a
  /// reload whose registries.conf does not load, keeping what runs.
  @Test func sighupAppliesTheReloadableKeys() async throws {
    try await RegistryServer.withRunning { registry in
      try await TestImages.pushBusybox(to: registry)
      try await withImageDaemon(registry: registry) { cri, daemon in
        let image = "\(registry.host)/busybox:1"
        _ = try await cri.pull(image)
        func pinned() async throws -> Bool { try await cri.image.imageStatus(.with { $0.image.image = image }).image.pinned }
        #expect(try await pinned() == false)
        var pod = PodSandboxTests.podConfig()
        pod.metadata.name = "on-extra"
        let unknown = await rpcError { _ = try await cri.runtime.runPodSandbox(.with { $0.config = pod; $0.runtimeHandler = "extra" }) }
        #expect(unknown?.code == .invalidArgument)

        let runc = try #require(["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]
          .map { $0 + "/runc" }.first { access($0, X_OK) == 0 })
        try Files.write(daemon.configDir + "/60-reload.conf", """
          [crio.image]
          pinned_images = ["\(registry.host)/busy*"]
          [crio.runtime.runtimes.extra]
          runtime_path = "\(runc)"
          runtime_root = "\(daemon.directory)/runc-extra"
          [crio.api]
          stream_idle_timeout = "1h"
          """)
        daemon.send(signal: SIGHUP)
        #expect(await eventually { daemon.log().contains("need a restart") })
        let log = daemon.log()
        #expect(log.contains("Reloaded pinned_images") && log.contains("Added runtime handler"), "\(log)")
        #expect(log.contains("[crio.api] stream_idle_timeout"), "the key that needs a restart is named")
        #expect(try await pinned() == true)
        let podID = try await cri.runtime.runPodSandbox(.with { $0.config = pod; $0.runtimeHandler = "extra" }).podSandboxID
        #expect(try await cri.runtime.podSandboxStatus(.with { $0.podSandboxID = podID }).status.runtimeHandler == "extra")
        _ = try await cri.runtime.stopPodSandbox(.with { $0.podSandboxID = podID })
        _ = try await cri.runtime.removePodSandbox(.with { $0.podSandboxID = podID })

        // A registries.conf that does not parse: the whole reload is refused.
        let config = try Files.read(daemon.configFile)
        let registries = String(try #require(config.split(separator: "\n").first { $0.hasPrefix("registries_conf =") }).split(separator: "\"")[1])
        try Files.write(registries, "unqualified-search-registries = [\n")
        try Files.write(daemon.configDir + "/60-reload.conf", "[crio.image]\npinned_images = []\n")
        daemon.send(signal: SIGHUP)
        #expect(await eventually { daemon.log().contains("Configuration reload refused") })
        #expect(try await pinned() == true, "the running configuration stays")
      }
    }
  }
}
