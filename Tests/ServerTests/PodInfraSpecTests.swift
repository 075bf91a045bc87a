import Config
import OCI
import PodNetwork
import Testing

@testable import Server

/// The infra container's command, credentials and spec (`drop_infra_ctr =
/// false`, `pause_command`, `pause_image_auth_file`, `infra_ctr_cpuset`).
@Suite struct PodInfraSpecTests {
  static func defaults(entrypoint: [String]? = nil, cmd: [String]? = nil) -> ContainerDefaults {
    var defaults = ContainerDefaults()
    defaults.entrypoint = entrypoint
    defaults.cmd = cmd
    return defaults
  }

  @Test func pauseCommandWinsOverTheImage() throws {
    let image = Self.defaults(entrypoint: ["/other"], cmd: ["x"])
    #expect(try PauseImage.command(configured: "/pause", image: image, imageName: "p") == ["/pause"])
  }

  @Test func anEmptyPauseCommandRunsTheImagesEntrypointThenCmd() throws {
    #expect(try PauseImage.command(configured: "", image: Self.defaults(entrypoint: ["/pause"], cmd: ["-v"]), imageName: "p") == ["/pause", "-v"])
    #expect(try PauseImage.command(configured: "", image: Self.defaults(cmd: ["/bin/sleep", "inf"]), imageName: "p") == ["/bin/sleep", "inf"])
  }

  @Test func anEmptyPauseCommandNeedsAnImageCommand() {
    #expect(throws: CRIError.self) { try PauseImage.command(configured: "", image: Self.defaults(), imageName: "p") }
    #expect(throws: CRIError.self) { try PauseImage.command(configured: "", image: nil, imageName: "p") }
  }

  @Test func thePauseImageAuthFileReplacesTheGlobalOne() {
    #expect(PauseImage.authFile(pauseImageAuthFile: "/etc/pause-auth.json", globalAuthFile: "/etc/auth.json") == "/etc/pause-auth.json")
    #expect(PauseImage.authFile(pauseImageAuthFile: "", globalAuthFile: "/etc/auth.json") == "/etc/auth.json")
    #expect(PauseImage.authFile(pauseImageAuthFile: "", globalAuthFile: "") == "")
  }

  @Test(arguments: [
    (nil, 65535, 65535), ("", 65535, 65535), ("65535:65535", 65535, 65535), ("1000", 1000, 1000),
    ("1000:2000", 1000, 2000), ("0", 65535, 65535), ("0:0", 65535, 65535), ("1000:0", 65535, 65535),
    ("nobody", 65535, 65535), ("1000:staff", 65535, 65535),
  ] as [(String?, UInt32, UInt32)])
  func runsAsAnUnprivilegedUser(imageUser: String?, uid: UInt32, gid: UInt32) {
    #expect(PodInfraSpec.user(imageUser: imageUser) == (uid, gid))
  }

  static func spec(cpuset: String? = nil, floor: Int? = nil, shared: Bool = true) -> Spec {
    let namespaces = PinnedNamespaces(network: "/run/ns/netns/p", ipc: "/run/ns/ipcns/p", uts: "/run/ns/utsns/p")
    let base = PodInitSpec(
      podID: "p", root: "/run/pods/p/infra/rootfs", namespaces: namespaces, userNamespace: nil,
      cgroupsPath: "/kubepods/crio-p", cgroupV2: true, cpuset: cpuset)
    return PodInfraSpec(base: base, command: ["/pause"], imageUser: "65535:65535", oomScoreAdjFloor: floor).build()
  }

  @Test func isConfinedAsThePodInit() throws {
    let spec = Self.spec()
    let process = try #require(spec.process)
    #expect(process.args == ["/pause"])
    #expect(process.env == [PodInfraSpec.path])
    #expect(process.user.uid == 65535 && process.user.gid == 65535)
    #expect(process.noNewPrivileges == true)
    let capabilities = try #require(process.capabilities)
    #expect([capabilities.bounding, capabilities.effective, capabilities.permitted, capabilities.inheritable, capabilities.ambient].allSatisfy { $0 == [] })
    #expect(spec.root?.path == "/run/pods/p/infra/rootfs" && spec.root?.readonly == true)
    let linux = try #require(spec.linux)
    #expect(linux.seccomp != nil)
    #expect(linux.cgroupsPath == "/kubepods/crio-p")
    let namespaces = Dictionary(uniqueKeysWithValues: (linux.namespaces ?? []).map { ($0.type, $0.path) })
    #expect(namespaces["network"] == "/run/ns/netns/p" && namespaces["ipc"] == "/run/ns/ipcns/p" && namespaces["uts"] == "/run/ns/utsns/p")
    #expect(namespaces.keys.contains("pid") && namespaces["pid"] == .some(nil), "a PID namespace of its own")
    #expect(namespaces.keys.contains("mount") && namespaces["mount"] == .some(nil))
  }

  @Test func takesCRIOsInfraResources() throws {
    let plain = Self.spec()
    #expect(plain.linux?.resources?.cpu?.shares == PodInfraSpec.cpuShares)
    #expect(plain.linux?.resources?.cpu?.cpus == nil)
    #expect(plain.process?.oomScoreAdj == -998)
    let pinned = Self.spec(cpuset: "0-1,3", floor: 0)
    #expect(pinned.linux?.resources?.cpu?.cpus == "0-1,3")
    #expect(pinned.process?.oomScoreAdj == 0, "no lower than the daemon may set")
  }

  @Test func takesDefaultUlimits() throws {
    let base = PodInitSpec(podID: "p", root: "/r", namespaces: PinnedNamespaces(), cgroupsPath: "/c", cgroupV2: true)
    let plain = PodInfraSpec(base: base, command: ["/pause"], imageUser: nil, oomScoreAdjFloor: nil).build()
    #expect(plain.process?.rlimits == nil)
    let limited = PodInfraSpec(
      base: base, command: ["/pause"], imageUser: nil, oomScoreAdjFloor: nil, ulimits: [try #require(Ulimit(parsing: "nofile=1024:2048"))]
    ).build()
    #expect(limited.process?.rlimits == [Spec.Rlimit(type: "RLIMIT_NOFILE", hard: 2048, soft: 1024)])
  }

  @Test func theInitTakesTheInfraCpusetToo() {
    let base = PodInitSpec(podID: "p", root: "/r", namespaces: PinnedNamespaces(), cgroupsPath: "/c", cgroupV2: true, cpuset: "1")
    #expect(base.build().linux?.resources?.cpu?.cpus == "1")
    let unset = PodInitSpec(podID: "p", root: "/r", namespaces: PinnedNamespaces(), cgroupsPath: "/c", cgroupV2: true)
    #expect(unset.build().linux?.resources?.cpu == nil, "without infra_ctr_cpuset the init's spec is as before")
  }

  @Test func cpusetListsAreRead() {
    #expect(InfraCPUSet.cpus("0-3,6") == [0, 1, 2, 3, 6])
    #expect(InfraCPUSet.cpus("1") == [1])
    #expect(InfraCPUSet.cpus("0-1\n") == [0, 1])
    #expect(InfraCPUSet.cpus("3-1") == nil)
    #expect(InfraCPUSet.cpus("a") == nil)
  }

  @Test func anInfraCpusetOfCPUsTheHostLacksIsRefused() throws {
    #expect(InfraCPUSet.refusal("", online: "0-1\n") == nil)
    #expect(InfraCPUSet.refusal("0-1", online: "0-1\n") == nil)
    #expect(InfraCPUSet.refusal("1,7", online: "0-3,6-7\n") == nil)
    let refusal = try #require(InfraCPUSet.refusal("1-2,5", online: "0-1\n"))
    #expect(refusal.hasPrefix("[crio.runtime] infra_ctr_cpuset = \"1-2,5\""), "names the key: \(refusal)")
    #expect(refusal.contains("(2,5; online: 0-1)"), "names the CPUs: \(refusal)")
    #expect(InfraCPUSet.refusal("4", online: nil) == nil, "unknown online CPUs: left to runc")
  }
}
