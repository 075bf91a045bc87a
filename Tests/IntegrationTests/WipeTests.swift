#if canImport(Glibc)
import Glibc
#endif
import CRIAPI
import CRIClient
import Support
import Testing
import TestFixtures

/// CRI-O's wipe: the version files tell a reboot (`version_file` on tmpfs
/// gone) or an upgrade (`version_file_persist` changed) apart from a plain
/// restart; the clean shutdown file tells a clean stop from a crash.
@Suite struct WipeTests {
  static let image = "busybox:1"

  /// A pod with a running container, for a wipe to remove.
  static func runWorkload(_ cri: CRIConnection) async throws -> (pod: String, container: String) {
    let pod = try await PodSandboxTests.run(cri, PodSandboxTests.podConfig())
    var config = ContainerTests.container("wiped", "sleep 1000")
    config.logPath = ""
    let container = try await cri.runtime.createContainer(.with {
      $0.podSandboxID = pod
      $0.config = config
    }).containerID
    _ = try await cri.runtime.startContainer(.with { $0.containerID = container })
    return (pod, container)
  }

  /// Nothing of any pod or container is left: records, processes, mounts,
  /// pinned namespaces, runc state, directories, exit files.
  static func expectNothingLeft(in directory: String, processes: [pid_t], mounts: [String]) {
    #expect(processes.isEmpty, "\(processes)")
    #expect(mounts.isEmpty, "\(mounts)")
    for place in ["run/pods", "run/containers", "root/containers", "ns/netns", "ns/ipcns", "ns/utsns", "runc", "exits"] {
      let left = ((try? Files.list(directory + "/" + place)) ?? []).filter { $0.count == 64 }
      #expect(left.isEmpty, "\(place): \(left)")
    }
  }

  static func expectNoRecords(_ cri: CRIConnection) async throws {
    #expect(try await cri.runtime.listPodSandbox(.init()).items.isEmpty)
    #expect(try await cri.runtime.listContainers(.init()).containers.isEmpty)
  }

  /// `crio wipe` on a stopped daemon's directories and flags.
  static func wipe(_ daemon: DaemonProcess, _ extra: [String] = []) async throws -> (status: Int32, stdout: String, stderr: String) {
    try await crio(["wipe"] + daemon.standardArguments + extra)
  }

  @Test func aRebootWipesThePreviousBootsPodsAndContainersAtStart() async throws {
    try await RegistryServer.withRunning { registry in
      try await TestImages.pushBusybox(to: registry)
      let dir = try Files.makeTemporaryDirectory(prefix: "crio-wipe")
      defer { Files.removeTree(dir) }
      try await acrossAKilledDaemon(config: try registry.pullConfiguration(in: dir), signal: SIGTERM) { cri, daemon in
        _ = try await cri.pull("\(registry.host)/\(Self.image)")
        #expect(Files.kind(of: daemon.directory + "/run/version") == .file)
        #expect(Files.kind(of: daemon.directory + "/root/clean.shutdown") == .missing)
        return try await Self.runWorkload(cri)
      } whileDown: { daemon, _ in
        #expect(Files.kind(of: daemon.directory + "/root/clean.shutdown") == .file, "written by the clean stop")
        // The tmpfs the version file lives on is empty after a reboot.
        unlink(daemon.directory + "/run/version")
      } after: { cri, restarted, _ in
        try await Self.expectNoRecords(cri)
        Self.expectNothingLeft(in: restarted.directory, processes: restarted.processes(), mounts: restarted.mounts())
        #expect(try await cri.listImages().count == 1, "a reboot keeps images")
        #expect(Files.kind(of: restarted.directory + "/run/version") == .file)
      }
    }
  }

  @Test func withoutInternalWipeTheWipeCommandRemovesThemAndThenHasNothingToDo() async throws {
    try await RegistryServer.withRunning { registry in
      try await TestImages.pushBusybox(to: registry)
      let dir = try Files.makeTemporaryDirectory(prefix: "crio-wipe")
      defer { Files.removeTree(dir) }
      let config = "[crio]\ninternal_wipe = false\n\n" + (try registry.pullConfiguration(in: dir))
      try await acrossAKilledDaemon(config: config, signal: SIGTERM) { cri, _ in
        _ = try await cri.pull("\(registry.host)/\(Self.image)")
        return try await Self.runWorkload(cri)
      } whileDown: { daemon, _ in
        let unchanged = try await Self.wipe(daemon)
        #expect(unchanged.status == 0 && unchanged.stdout.contains("no wipe needed"), "\(unchanged)")
        #expect(!daemon.processes().isEmpty, "nothing was wiped")
        unlink(daemon.directory + "/run/version")
        let wiped = try await Self.wipe(daemon)
        #expect(wiped.status == 0 && wiped.stdout.contains("Wiped 1 pods, 1 containers and 0 images"), "\(wiped)")
        Self.expectNothingLeft(in: daemon.directory, processes: daemon.processes(), mounts: daemon.mounts())
      } after: { cri, restarted, _ in
        try await Self.expectNoRecords(cri)
        #expect(try await cri.listImages().count == 1)
        let nothing = try await Self.wipe(restarted)
        #expect(nothing.status == 0 && nothing.stdout.contains("no wipe needed"), "\(nothing)")
      }
    }
  }

  @Test func aChangedPersistentVersionAlsoRemovesTheContainersImages() async throws {
    try await RegistryServer.withRunning { registry in
      try await TestImages.pushBusybox(to: registry)
      let dir = try Files.makeTemporaryDirectory(prefix: "crio-wipe")
      defer { Files.removeTree(dir) }
      try await acrossAKilledDaemon(config: try registry.pullConfiguration(in: dir), signal: SIGTERM) { cri, _ in
        _ = try await cri.pull("\(registry.host)/\(Self.image)")
        return try await Self.runWorkload(cri)
      } whileDown: { daemon, _ in
        #expect(try Files.read(daemon.directory + "/root/version").hasPrefix("\""))
        try Files.write(daemon.directory + "/root/version", "\"99.1.0\"")
      } after: { cri, restarted, _ in
        try await Self.expectNoRecords(cri)
        Self.expectNothingLeft(in: restarted.directory, processes: restarted.processes(), mounts: restarted.mounts())
        #expect(try await cri.listImages().isEmpty, "an upgrade wipes the images of the wiped containers")
        #expect(try Files.read(restarted.directory + "/root/version") != "\"99.1.0\"")
      }
    }
  }

  /// A `kill -9` leaves no clean shutdown file; the next start checks the
  /// storage and removes the image whose layer lost its content, keeping
  /// the image beside it that shares its base layer.
  @Test func anUncleanStopsStorageCheckRemovesADamagedImageOnly() async throws {
    try await RegistryServer.withRunning { registry in
      try await TestImages.pushBusybox(to: registry, repository: "damaged", marker: "damaged")
      try await TestImages.pushBusybox(to: registry, repository: "good", marker: "good")
      let dir = try Files.makeTemporaryDirectory(prefix: "crio-wipe")
      defer { Files.removeTree(dir) }
      try await acrossAKilledDaemon(config: try registry.pullConfiguration(in: dir)) { cri, _ in
        _ = try await cri.pull("\(registry.host)/damaged:1")
        _ = try await cri.pull("\(registry.host)/good:1")
      } whileDown: { daemon, _ in
        #expect(Files.kind(of: daemon.directory + "/root/clean.shutdown") == .missing)
        #expect(Files.kind(of: daemon.directory + "/root/clean.shutdown.supported") == .file)
        let diffID = TestImages.appLayer(marker: "damaged").diffID.description
        let layers = daemon.directory + "/root/layers"
        let damaged = try Files.list(layers).filter { (try? Files.read(layers + "/\($0)/layer.json"))?.contains(diffID) == true }
        #expect(damaged.count == 1)
        for layer in damaged { Files.removeTree(layers + "/\(layer)/diff") }
      } after: { cri, restarted, _ in
        let names = try await cri.listImages().flatMap(\.repoTags)
        #expect(names == ["\(registry.host)/good:1"], "\(names)")
        #expect(restarted.log().contains("Storage checked"))
        // The good image still runs containers.
        let pod = try await PodSandboxTests.run(cri, PodSandboxTests.podConfig())
        var config = ContainerTests.container("good", "cat /srv/hello.txt", registryImage: "\(registry.host)/good:1")
        config.logPath = ""
        let id = try await cri.runtime.createContainer(.with {
          $0.podSandboxID = pod
          $0.config = config
        }).containerID
        _ = try await cri.runtime.startContainer(.with { $0.containerID = id })
        try await PodSandboxTests.remove(cri, pod)
      }
    }
  }

  /// After a reboot that followed an unclean stop, `crio wipe` (even with
  /// internal_wipe) removes every pod, container and image, as CRI-O
  /// removes its whole storage.
  @Test func afterAnUncleanStopAndARebootTheWipeCommandRemovesEverything() async throws {
    try await RegistryServer.withRunning { registry in
      try await TestImages.pushBusybox(to: registry)
      let dir = try Files.makeTemporaryDirectory(prefix: "crio-wipe")
      defer { Files.removeTree(dir) }
      try await acrossAKilledDaemon(config: try registry.pullConfiguration(in: dir)) { cri, _ in
        _ = try await cri.pull("\(registry.host)/\(Self.image)")
        return try await Self.runWorkload(cri)
      } whileDown: { daemon, _ in
        let deferred = try await Self.wipe(daemon)
        #expect(deferred.status == 0 && deferred.stdout.contains("internal_wipe is set"), "\(deferred)")
        unlink(daemon.directory + "/run/version")
        let wiped = try await Self.wipe(daemon)
        #expect(wiped.status == 0 && wiped.stdout.contains("Wiped 1 pods, 1 containers and 1 images"), "\(wiped)")
        Self.expectNothingLeft(in: daemon.directory, processes: daemon.processes(), mounts: daemon.mounts())
      } after: { cri, _, _ in
        try await Self.expectNoRecords(cri)
        #expect(try await cri.listImages().isEmpty)
      }
    }
  }
}
