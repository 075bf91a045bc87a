import CRIAPI
import Config
import FoundationEssentials
import OCI
import PodNetwork
import Support
import Testing

@testable import Server

/// A container in a pod with its own network, IPC and UTS namespaces, on a
/// cgroup v2 host whose bounding set has four capabilities.
struct SpecFixture {
  let rootfs: TempRootfs
  var inputs: ContainerSpecInputs
  var host = ContainerSpecHost(
    cgroupV2: true, boundingCapabilities: ["CAP_CHOWN", "CAP_KILL", "CAP_NET_ADMIN", "CAP_SYS_ADMIN"])

  init(
    entrypoint: [String]? = ["/entry"], cmd: [String]? = ["default-arg"], env: [String]? = nil,
    user: String? = nil, workingDir: String? = nil
  ) throws {
    rootfs = try TempRootfs()
    try rootfs.write("etc/passwd", "root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n")
    try rootfs.write("etc/group", "root:x:0:\napp:x:1001:\nvideo:x:44:app\n")
    var defaults = ContainerDefaults()
    defaults.entrypoint = entrypoint
    defaults.cmd = cmd
    defaults.env = env
    defaults.user = user
    defaults.workingDir = workingDir
    var config = Runtime_V1_ContainerConfig()
    config.metadata.name = "web"
    config.annotations = ["example.com/note": "hello"]
    var pod = Runtime_V1_PodSandboxConfig()
    pod.metadata.name = "web-0"
    pod.metadata.namespace = "default"
    pod.metadata.uid = "uid-123"
    inputs = ContainerSpecInputs(
      containerID: "c0ffee", config: config, podConfig: pod,
      image: ImageConfiguration(architecture: "amd64", os: "linux", config: defaults, rootfs: .init(diffIDs: [])),
      rootfs: rootfs.path, networkNamespace: "/var/run/netns/pod", ipcNamespace: "/var/run/ipcns/pod",
      utsNamespace: "/var/run/utsns/pod", hostnamePath: "/pod/hostname", hostsPath: "/pod/hosts",
      resolvPath: "/pod/resolv.conf", shmPath: "/pod/shm", hostname: "web-0",
      cgroupsPath: "kubepods-pod.slice:crio:c0ffee", defaultCapabilities: ["CHOWN", "CAP_KILL", "net_bind_service"],
      defaultEnv: [], allowedOOMScoreAdjMin: nil)
  }

  var security: Runtime_V1_LinuxContainerSecurityContext {
    get { inputs.config.linux.securityContext }
    set { inputs.config.linux.securityContext = newValue }
  }

  func build() throws(CRIError) -> Spec { try ContainerSpecBuilder.build(inputs, host: host) }
}

func envVar(_ key: String, _ value: String) -> Runtime_V1_KeyValue {
  var pair = Runtime_V1_KeyValue()
  pair.key = key
  pair.value = Data(value.utf8)
  return pair
}

func criMount(_ host: String, _ container: String, readonly: Bool = false,
              propagation: Runtime_V1_MountPropagation = .propagationPrivate) -> Runtime_V1_Mount {
  var mount = Runtime_V1_Mount()
  mount.hostPath = host
  mount.containerPath = container
  mount.readonly = readonly
  mount.propagation = propagation
  return mount
}

/// The message of the invalidArgument error building `fixture`'s spec throws; nil when it succeeds or throws something else.
func invalidArgument(_ fixture: SpecFixture) -> String? {
  do {
    _ = try fixture.build()
    return nil
  } catch {
    if case .invalidArgument(let message) = error { return message }
    return nil
  }
}

@Suite struct ContainerSpecTests {
  /// `read_only`: the root and the pod's files read-only, tmpfs (seeded
  /// from the image) where programs write, a CRI mount still winning.
  @Test func readOnlyMakesEveryRootReadOnlyWithWritableTmpfs() throws {
    var fixture = try SpecFixture()
    #expect(try fixture.build().root?.readonly == false)
    fixture.inputs.readOnlyRootfs = true
    fixture.inputs.config.mounts = [.with { $0.containerPath = "/tmp"; $0.hostPath = "/" }]
    let spec = try fixture.build()
    #expect(spec.root?.readonly == true)
    let byDestination = Dictionary((spec.mounts ?? []).map { ($0.destination, $0) }, uniquingKeysWith: { $1 })
    #expect(byDestination["/run"]?.type == "tmpfs")
    #expect(byDestination["/run"]?.options?.contains("tmpcopyup") == true)
    #expect(byDestination["/var/tmp"]?.options?.contains("mode=1777") == true)
    #expect(byDestination["/tmp"]?.type == "bind", "the CRI mount replaces the tmpfs")
    #expect(byDestination["/etc/hosts"]?.options?.contains("ro") == true)
  }

  // MARK: Process arguments

  struct ArgsCase: Sendable, CustomTestStringConvertible {
    var entrypoint: [String]?
    var cmd: [String]?
    var command: [String]
    var args: [String]
    var expected: [String]?
    var testDescription: String { "entrypoint \(entrypoint ?? []) cmd \(cmd ?? []) command \(command) args \(args)" }
  }

  @Test(arguments: [
    ArgsCase(entrypoint: ["/e"], cmd: ["c1", "c2"], command: [], args: [], expected: ["/e", "c1", "c2"]),
    ArgsCase(entrypoint: ["/e"], cmd: ["c1"], command: [], args: ["a1"], expected: ["/e", "a1"]),
    ArgsCase(entrypoint: ["/e"], cmd: ["c1"], command: ["/k"], args: [], expected: ["/k"]),
    ArgsCase(entrypoint: ["/e"], cmd: ["c1"], command: ["/k", "-x"], args: ["a1"], expected: ["/k", "-x", "a1"]),
    ArgsCase(entrypoint: nil, cmd: ["/bin/sh"], command: [], args: [], expected: ["/bin/sh"]),
    ArgsCase(entrypoint: nil, cmd: ["/bin/sh"], command: [], args: ["/bin/true"], expected: ["/bin/true"]),
    ArgsCase(entrypoint: nil, cmd: nil, command: [], args: ["/bin/true", "x"], expected: ["/bin/true", "x"]),
    ArgsCase(entrypoint: nil, cmd: nil, command: [], args: [], expected: nil),
    ArgsCase(entrypoint: [], cmd: [], command: [], args: [], expected: nil),
  ])
  func commandAndArgsMerge(_ c: ArgsCase) throws {
    var fixture = try SpecFixture(entrypoint: c.entrypoint, cmd: c.cmd)
    fixture.inputs.config.command = c.command
    fixture.inputs.config.args = c.args
    if let expected = c.expected {
      #expect(try fixture.build().process?.args == expected)
    } else {
      #expect(throws: CRIError.invalidArgument("no command specified")) { try fixture.build() }
    }
  }

  // MARK: Environment

  @Test func environmentMergesLaterWinsInFirstPosition() throws {
    var fixture = try SpecFixture(env: ["PATH=/image/bin", "A=image", "B=image", "EMPTY="])
    fixture.inputs.defaultEnv = ["A=default", "D=default"]
    fixture.inputs.config.envs = [envVar("B", "cri"), envVar("C", "x=y"), envVar("A", "cri")]
    let env = try fixture.build().process?.env
    #expect(env == ["A=cri", "D=default", "HOSTNAME=web-0", "PATH=/image/bin", "B=cri", "EMPTY=", "C=x=y"])
  }

  @Test func environmentGetsDefaultPathAndTerm() throws {
    var fixture = try SpecFixture(env: nil)
    fixture.inputs.config.tty = true
    let spec = try fixture.build()
    #expect(spec.process?.terminal == true)
    #expect(
      spec.process?.env == [
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME=web-0", "TERM=xterm",
      ])
  }

  @Test func environmentRejectsBadKeysAndValues() throws {
    var fixture = try SpecFixture()
    fixture.inputs.config.envs = [envVar("A=B", "x")]
    #expect(invalidArgument(fixture)?.contains("envs") == true)
    fixture.inputs.config.envs = [envVar("A\u{0}", "x")]
    #expect(invalidArgument(fixture)?.contains("envs") == true)
    fixture.inputs.config.envs = [envVar("A", "x\u{0}y")]
    #expect(invalidArgument(fixture)?.contains("NUL") == true)
    fixture.inputs.config.envs = [envVar("", "x")]
    #expect(invalidArgument(fixture)?.contains("empty key") == true)
  }

  // MARK: Working directory and user

  @Test func workingDirectory() throws {
    var fixture = try SpecFixture(workingDir: "/srv")
    #expect(try fixture.build().process?.cwd == "/srv")
    fixture.inputs.config.workingDir = "/work"
    #expect(try fixture.build().process?.cwd == "/work")
    fixture.inputs.config.workingDir = "relative"
    #expect(invalidArgument(fixture)?.contains("working_dir") == true)
    let plain = try SpecFixture(workingDir: nil)
    #expect(try plain.build().process?.cwd == "/")
  }

  @Test func imageUserIsResolvedInTheRootfs() throws {
    let fixture = try SpecFixture(user: "app")
    let user = try #require(try fixture.build().process?.user)
    #expect(user == Spec.User(uid: 1000, gid: 1001, additionalGids: [44]))
  }

  @Test func securityContextOverridesTheImageUser() throws {
    var fixture = try SpecFixture(user: "app")
    fixture.security.runAsUser.value = 0
    #expect(try fixture.build().process?.user == Spec.User(uid: 0, gid: 0))

    fixture = try SpecFixture(user: "app:video")
    fixture.security.runAsGroup.value = 2000
    fixture.security.supplementalGroups = [3000, 44]
    // A group alone is refused, as CRI-O does; with the user it applies.
    #expect(invalidArgument(fixture)?.contains("run_as_group") == true)
    fixture.security.runAsUsername = "app"
    #expect(try fixture.build().process?.user == Spec.User(uid: 1000, gid: 2000, additionalGids: [3000, 44]))

    fixture = try SpecFixture(user: nil)
    fixture.security.runAsUsername = "app"
    fixture.security.supplementalGroups = [5]
    #expect(try fixture.build().process?.user == Spec.User(uid: 1000, gid: 1001, additionalGids: [44, 5]))

    fixture.security.supplementalGroupsPolicy = .strict
    #expect(try fixture.build().process?.user == Spec.User(uid: 1000, gid: 1001, additionalGids: [5]))

    fixture = try SpecFixture()
    fixture.security.runAsUser.value = 4_294_967_296
    #expect(invalidArgument(fixture)?.contains("run_as_user") == true)
    fixture = try SpecFixture()
    fixture.security.runAsUsername = "ghost"
    #expect(invalidArgument(fixture)?.contains("ghost") == true)
  }

  // MARK: Capabilities

  @Test func defaultCapabilitiesAreNormalised() throws {
    let fixture = try SpecFixture()
    let caps = try #require(try fixture.build().process?.capabilities)
    // NET_BIND_SERVICE, a default, is not in this host's bounding set.
    #expect(caps.bounding == ["CAP_CHOWN", "CAP_KILL"])
    #expect(caps.effective == caps.bounding && caps.permitted == caps.bounding)
    #expect(caps.inheritable == [] && caps.ambient == [])
  }

  @Test func addAndDropCapabilities() throws {
    var fixture = try SpecFixture()
    fixture.security.capabilities.addCapabilities = ["NET_ADMIN", "cap_sys_admin"]
    fixture.security.capabilities.dropCapabilities = ["CAP_KILL", "SYS_ADMIN", "SYS_TIME"]
    #expect(try fixture.build().process?.capabilities?.bounding == ["CAP_CHOWN", "CAP_NET_ADMIN"])

    // One the daemon itself lacks cannot be granted.
    fixture.security.capabilities.addCapabilities = ["SYS_TIME"]
    #expect(invalidArgument(fixture)?.contains("bounding set") == true)

    fixture.security.capabilities.addCapabilities = ["NOT_A_CAP"]
    fixture.security.capabilities.dropCapabilities = []
    #expect(invalidArgument(fixture)?.contains("NOT_A_CAP") == true)
  }

  @Test func allCapabilities() throws {
    var fixture = try SpecFixture()
    fixture.security.capabilities.dropCapabilities = ["ALL"]
    #expect(try fixture.build().process?.capabilities?.bounding == [])

    fixture.security.capabilities.addCapabilities = ["NET_ADMIN"]
    #expect(try fixture.build().process?.capabilities?.permitted == ["CAP_NET_ADMIN"])

    fixture.security.capabilities.addCapabilities = ["all"]
    fixture.security.capabilities.dropCapabilities = ["CHOWN"]
    #expect(
      try fixture.build().process?.capabilities?.effective == ["CAP_KILL", "CAP_NET_ADMIN", "CAP_SYS_ADMIN"])
  }

  @Test func theHostsBoundingSetIsRead() {
    #expect(ContainerSpecHost.current.boundingCapabilities.contains("CAP_CHOWN"))
  }

  // MARK: Privileged

  @Test func privilegedContainer() throws {
    var fixture = try SpecFixture()
    fixture.security.privileged = true
    fixture.security.capabilities.dropCapabilities = ["ALL"]
    fixture.security.maskedPaths = ["/proc/kcore"]
    let spec = try fixture.build()
    #expect(spec.process?.capabilities?.bounding == fixture.host.boundingCapabilities)
    #expect(spec.linux?.maskedPaths == [])
    #expect(spec.linux?.readonlyPaths == [])
    #expect(spec.mounts?.first { $0.destination == "/sys" }?.options?.contains("rw") == true)
    #expect(spec.mounts?.first { $0.destination == "/sys/fs/cgroup" }?.options?.contains("rw") == true)
    #expect(spec.linux?.resources?.devices == [Spec.DeviceCgroup(allow: true, access: "rwm")])
  }

  // MARK: Mounts

  @Test func defaultMountsInRuncOrder() throws {
    let fixture = try SpecFixture()
    let spec = try fixture.build()
    let mounts = try #require(spec.mounts)
    #expect(
      mounts.map(\.destination) == [
        "/proc", "/dev", "/dev/pts", "/dev/mqueue", "/sys", "/sys/fs/cgroup", "/dev/shm",
        "/etc/hostname", "/etc/hosts", "/etc/resolv.conf",
      ])
    #expect(mounts[4].options?.contains("ro") == true)
    #expect(mounts[6] == Spec.Mount(destination: "/dev/shm", type: "bind", source: "/pod/shm", options: ["rbind", "rw"]))
    #expect(mounts[9].source == "/pod/resolv.conf")
    #expect(mounts[9].options?.contains("rw") == true)
  }

  @Test func criMountsFollowAndReplaceDefaults() throws {
    let host = try TempRootfs()
    try host.write("hosts", "127.0.0.1 localhost\n")
    try Files.makeDirectories(host.path + "/data", mode: 0o755)
    var fixture = try SpecFixture()
    fixture.inputs.config.mounts = [
      criMount(host.path + "/data", "/var/lib/data/", readonly: true, propagation: .propagationHostToContainer),
      criMount(host.path + "/hosts", "/etc/hosts"),
    ]
    let spec = try fixture.build()
    let mounts = try #require(spec.mounts)
    #expect(mounts.filter { $0.destination == "/etc/hosts" }.count == 1)
    #expect(mounts.suffix(2) == [
      Spec.Mount(destination: "/var/lib/data", type: "bind", source: host.path + "/data", options: ["rbind", "ro", "rslave"]),
      Spec.Mount(destination: "/etc/hosts", type: "bind", source: host.path + "/hosts", options: ["rbind", "rw", "rprivate"]),
    ])
    #expect(!mounts.contains { $0.source == "/pod/hosts" })
    #expect(spec.linux?.rootfsPropagation == "rslave")

    fixture.inputs.config.mounts = [criMount(host.path + "/data", "/shared", propagation: .propagationBidirectional)]
    let shared = try fixture.build()
    #expect(shared.mounts?.last?.options == ["rbind", "rw", "rshared"])
    #expect(shared.linux?.rootfsPropagation == "rshared")
  }

  @Test func badCriMountsAreRejected() throws {
    let host = try TempRootfs()
    var fixture = try SpecFixture()
    // A missing source named by absent_mount_sources_to_reject is an error…
    fixture.inputs.config.mounts = [criMount(host.path + "/missing", "/data")]
    fixture.inputs.absentMountSourcesToReject = [host.path + "/missing"]
    #expect(invalidArgument(fixture)
      == "mounts[0].host_path \(host.path)/missing does not exist, and absent_mount_sources_to_reject forbids making it as a directory")
    #expect(Files.kind(of: host.path + "/missing") == .missing)
    // …any other is made as a directory, as CRI-O does.
    fixture.inputs.absentMountSourcesToReject = []
    #expect(invalidArgument(fixture) == nil)
    #expect(Files.kind(of: host.path + "/missing") == .directory)
    fixture.inputs.config.mounts = [criMount("relative/dir", "/data")]
    #expect(invalidArgument(fixture)?.contains("host_path") == true)
    fixture.inputs.config.mounts = [criMount(host.path, "data")]
    #expect(invalidArgument(fixture)?.contains("container_path") == true)
    fixture.inputs.config.mounts = [criMount(host.path, "/data/../etc")]
    #expect(invalidArgument(fixture)?.contains("container_path") == true)
  }

  @Test func readonlyRootfs() throws {
    var fixture = try SpecFixture()
    #expect(try fixture.build().root == Spec.Root(path: fixture.rootfs.path, readonly: false))
    fixture.security.readonlyRootfs = true
    let spec = try fixture.build()
    #expect(spec.root == Spec.Root(path: fixture.rootfs.path, readonly: true))
    #expect(spec.mounts?.first { $0.destination == "/etc/hosts" }?.options?.contains("ro") == true)
  }

  // MARK: Namespaces

  @Test func podNamespaces() throws {
    let fixture = try SpecFixture()
    let spec = try fixture.build()
    #expect(
      spec.linux?.namespaces == [
        Spec.Namespace(type: "pid"), Spec.Namespace(type: "mount"),
        Spec.Namespace(type: "network", path: "/var/run/netns/pod"),
        Spec.Namespace(type: "ipc", path: "/var/run/ipcns/pod"),
        Spec.Namespace(type: "uts", path: "/var/run/utsns/pod"), Spec.Namespace(type: "cgroup"),
      ])
    #expect(spec.hostname == "web-0")
  }

  @Test func hostNamespaces() throws {
    var fixture = try SpecFixture()
    fixture.inputs.networkNamespace = nil
    fixture.inputs.ipcNamespace = nil
    fixture.inputs.utsNamespace = nil
    fixture.inputs.shmPath = nil
    fixture.security.namespaceOptions.pid = .node
    fixture.host.cgroupV2 = false
    let spec = try fixture.build()
    #expect(spec.linux?.namespaces == [Spec.Namespace(type: "mount")])
    #expect(spec.hostname == nil)
    #expect(spec.mounts?.first { $0.destination == "/dev/shm" }?.source == "/dev/shm")
  }

  @Test func podUserNamespaceIsJoinedWithItsMappings() throws {
    let host = try TempRootfs()
    var fixture = try SpecFixture()
    let mappings = try UserNamespaceMappings(
      uids: [IDMapRange(containerID: 0, hostID: 3_145_728, size: 65536)],
      gids: [IDMapRange(containerID: 0, hostID: 3_211_264, size: 65536)])
    fixture.inputs.userNamespace = PodUserNamespace(path: "/var/run/userns/pod", mappings: mappings)
    var mapped = criMount(host.path, "/mapped")
    mapped.uidMappings = [.with { $0.hostID = 3_145_728; $0.length = 65536 }]
    mapped.gidMappings = [.with { $0.hostID = 3_211_264; $0.length = 65536 }]
    fixture.inputs.config.mounts = [criMount(host.path, "/plain"), mapped]
    fixture.inputs.idmappedMountSources = [1: "/bundle/idmapped/0"]
    let spec = try fixture.build()
    #expect(spec.linux?.namespaces?.first == Spec.Namespace(type: "user", path: "/var/run/userns/pod"))
    #expect(spec.linux?.uidMappings == [Spec.IDMapping(containerID: 0, hostID: 3_145_728, size: 65536)])
    #expect(spec.linux?.gidMappings == [Spec.IDMapping(containerID: 0, hostID: 3_211_264, size: 65536)])
    // runc binds the staged idmapped clone, not the host path.
    #expect(spec.mounts?.first { $0.destination == "/mapped" }?.source == "/bundle/idmapped/0")
    #expect(spec.mounts?.first { $0.destination == "/plain" }?.source == host.path)
    fixture.inputs.idmappedMountSources = [:]
    #expect(invalidArgument(fixture)?.hasPrefix("mounts[1]") == true)
  }

  @Test func userNamespaceRequests() throws {
    var options = Runtime_V1_NamespaceOption()
    #expect(try PodUserNamespace.requested(options, field: "f") == nil)
    options.usernsOptions.mode = .node
    #expect(try PodUserNamespace.requested(options, field: "f") == nil)
    options.usernsOptions.uids = [.with { $0.hostID = 100_000; $0.length = 65536 }]
    #expect(throws: CRIError.self) { try PodUserNamespace.requested(options, field: "f") }
    options.usernsOptions.mode = .pod
    #expect(throws: CRIError.self) { try PodUserNamespace.requested(options, field: "f") }  // no gids
    options.usernsOptions.gids = options.usernsOptions.uids
    #expect(try PodUserNamespace.requested(options, field: "f")?.hostRootUID == 100_000)
    options.usernsOptions.mode = .target
    #expect(throws: CRIError.self) { try PodUserNamespace.requested(options, field: "f") }
    options.usernsOptions.mode = .pod
    options.pid = .node
    #expect(throws: CRIError.self) { try PodUserNamespace.checkPodNamespaces(options) }
    options.pid = .pod
    #expect(throws: Never.self) { try PodUserNamespace.checkPodNamespaces(options) }
  }

  // MARK: Linux settings

  @Test func maskedAndReadonlyPaths() throws {
    var fixture = try SpecFixture()
    var spec = try fixture.build()
    #expect(spec.linux?.maskedPaths == ContainerSpecBuilder.defaultMaskedPaths)
    #expect(spec.linux?.maskedPaths?.contains("/proc/kcore") == true)
    #expect(spec.linux?.readonlyPaths?.contains("/proc/sys") == true)
    fixture.security.maskedPaths = ["/proc/secret"]
    fixture.security.readonlyPaths = ["/proc/ro"]
    spec = try fixture.build()
    #expect(spec.linux?.maskedPaths == ["/proc/secret"])
    #expect(spec.linux?.readonlyPaths == ["/proc/ro"])
  }

  @Test func resourcesAndOOMScore() throws {
    var fixture = try SpecFixture()
    var resources = Runtime_V1_LinuxContainerResources()
    resources.cpuShares = 512
    resources.cpuQuota = 50000
    resources.cpuPeriod = 100000
    resources.cpusetCpus = "0-1"
    resources.memoryLimitInBytes = 1 << 28
    resources.oomScoreAdj = -998
    var hugepages = Runtime_V1_HugepageLimit()
    hugepages.pageSize = "2MB"
    hugepages.limit = 1 << 21
    resources.hugepageLimits = [hugepages]
    resources.unified = ["memory.high": "200000000"]
    fixture.inputs.config.linux.resources = resources
    var spec = try fixture.build()
    let linux = try #require(spec.linux)
    #expect(linux.cgroupsPath == "kubepods-pod.slice:crio:c0ffee")
    #expect(linux.resources?.cpu == Spec.CPU(shares: 512, quota: 50000, period: 100000, cpus: "0-1"))
    #expect(linux.resources?.memory == Spec.Memory(limit: 1 << 28))
    #expect(linux.resources?.hugepageLimits == [Spec.HugepageLimit(pageSize: "2MB", limit: 1 << 21)])
    #expect(linux.resources?.unified == ["memory.high": "200000000"])
    #expect(linux.resources?.devices?.first == Spec.DeviceCgroup(allow: false, access: "rwm"))
    #expect(linux.resources?.devices?.contains(Spec.DeviceCgroup(allow: true, type: "c", major: 1, minor: 3, access: "rwm")) == true)
    #expect(spec.process?.oomScoreAdj == -998)

    fixture.inputs.allowedOOMScoreAdjMin = 0
    spec = try fixture.build()
    #expect(spec.process?.oomScoreAdj == 0)
    fixture.inputs.config.linux.resources.oomScoreAdj = 1001
    #expect(invalidArgument(fixture)?.contains("oom_score_adj") == true)
  }

  @Test func annotationsAndNoNewPrivileges() throws {
    var fixture = try SpecFixture()
    fixture.security.noNewPrivs = true
    fixture.inputs.config.labels = ["label": "not-in-spec"]
    let spec = try fixture.build()
    #expect(spec.process?.noNewPrivileges == true)
    #expect(
      spec.annotations == [
        "example.com/note": "hello", "io.kubernetes.container.name": "web", "io.kubernetes.pod.name": "web-0",
        "io.kubernetes.pod.namespace": "default", "io.kubernetes.pod.uid": "uid-123",
      ])
  }

  @Test func specEncodesAsRuntimeSpecJSON() throws {
    let fixture = try SpecFixture()
    let json = String(decoding: OCIJSON.encode(try fixture.build()), as: UTF8.self)
    #expect(json.contains("\"ociVersion\":\"1.0.2\""))
    #expect(json.contains("\"cgroupsPath\":\"kubepods-pod.slice:crio:c0ffee\""))
    #expect(json.contains("\"args\":[\"\\/entry\",\"default-arg\"]") || json.contains("\"args\":[\"/entry\",\"default-arg\"]"))
  }
}

/// crio.conf keys that shape every container's spec.
@Suite struct ConfiguredSpecTests {
  @Test func ulimitsAndPidsLimitReachTheSpec() throws {
    var fixture = try SpecFixture()
    fixture.inputs.ulimits = [try #require(Ulimit(parsing: "nofile=1024:2048")), try #require(Ulimit(parsing: "core=-1"))]
    fixture.inputs.pidsLimit = 100
    let spec = try fixture.build()
    #expect(spec.process?.rlimits == [
      Spec.Rlimit(type: "RLIMIT_NOFILE", hard: 2048, soft: 1024), Spec.Rlimit(type: "RLIMIT_CORE", hard: .max, soft: .max),
    ])
    #expect(spec.linux?.resources?.pids == Spec.Pids(limit: 100))
    // Without a pids controller CRI-O sets none, and neither unset key adds anything.
    fixture.host.pidsController = false
    #expect(try fixture.build().linux?.resources?.pids == nil)
    let plain = try SpecFixture().build()
    #expect(plain.process?.rlimits == nil && plain.linux?.resources?.pids == nil)
  }

  @Test func inheritableCapabilitiesOnlyWhenAsked() throws {
    var fixture = try SpecFixture()
    #expect(try fixture.build().process?.capabilities?.inheritable == [])
    fixture.inputs.addInheritableCapabilities = true
    let capabilities = try #require(try fixture.build().process?.capabilities)
    #expect(capabilities.permitted?.isEmpty == false && capabilities.inheritable == capabilities.permitted)
  }

  @Test func bindMountPrefixIsPutBeforeHostPaths() throws {
    let host = try TempRootfs()
    try Files.makeDirectories(host.path + "/var/data", mode: 0o755)
    var fixture = try SpecFixture()
    fixture.inputs.bindMountPrefix = host.path + "/"
    fixture.inputs.config.mounts = [criMount("/var/data", "/data")]
    #expect(try fixture.build().mounts?.last?.source == host.path + "/var/data")
  }

  @Test func configuredMountsGiveWayToCRIMounts() throws {
    let host = try TempRootfs()
    var fixture = try SpecFixture()
    let zone = Spec.Mount(destination: "/etc/localtime", type: "bind", source: "/usr/share/zoneinfo/UTC", options: ["ro"])
    let secrets = Spec.Mount(destination: "/run/secrets", type: "bind", source: host.path, options: ["rbind", "ro"])
    fixture.inputs.configuredMounts = [zone, secrets]
    var mounts = try #require(try fixture.build().mounts)
    #expect(mounts.contains(zone) && mounts.contains(secrets))
    fixture.inputs.config.mounts = [criMount(host.path, "/run/secrets")]
    mounts = try #require(try fixture.build().mounts)
    #expect(mounts.filter { $0.destination == "/run/secrets" }.count == 1 && !mounts.contains(secrets))
  }

  @Test func privilegedWithoutHostDevicesKeepsTheHostsNodesOut() throws {
    var fixture = try SpecFixture()
    fixture.inputs.config.linux.securityContext.privileged = true
    #expect(try fixture.build().linux?.devices?.isEmpty == false)
    fixture.inputs.privilegedWithoutHostDevices = true
    #expect(try fixture.build().linux?.devices == nil)
  }

  @Test func deviceOwnershipFollowsTheRunAsUserWhenAsked() throws {
    var fixture = try SpecFixture()
    fixture.inputs.config.devices = [.with { $0.hostPath = "/dev/null"; $0.containerPath = "/dev/mynull"; $0.permissions = "rw" }]
    fixture.inputs.config.linux.securityContext.runAsUser = .with { $0.value = 1234 }
    fixture.inputs.config.linux.securityContext.runAsGroup = .with { $0.value = 5678 }
    let hostOwned = try #require(try fixture.build().linux?.devices?.first { $0.path == "/dev/mynull" })
    #expect(hostOwned.uid == 0 && hostOwned.gid == 0)
    fixture.inputs.deviceOwnershipFromSecurityContext = true
    let owned = try #require(try fixture.build().linux?.devices?.first { $0.path == "/dev/mynull" })
    #expect(owned.uid == 1234 && owned.gid == 5678)
  }

  @Test func defaultMountsFileParses() throws {
    let mounts = try DefaultMount.parse("# secrets\n/usr/share/rhel/secrets:/run/secrets\n\n  /a : /b\n", file: "mounts.conf")
    #expect(mounts == [DefaultMount(source: "/usr/share/rhel/secrets", destination: "/run/secrets"), DefaultMount(source: "/a", destination: "/b")])
    for bad in ["relative:/x", "/a", "/a:/b:/c", "/a/../etc:/x"] {
      #expect(throws: CRIError.self) { try DefaultMount.parse(bad, file: "mounts.conf") }
    }
  }

  @Test func timezonesResolveToZoneFiles() throws {
    #expect(try ContainerTimezone.zoneFile("") == nil)
    #expect(try ContainerTimezone.zoneFile("local") == "/etc/localtime")
    #expect(try ContainerTimezone.zoneFile("UTC") == "/usr/share/zoneinfo/UTC")
    for bad in ["Mars/Olympus", "../../etc/passwd", "/etc/passwd"] {
      #expect(throws: CRIError.self) { try ContainerTimezone.zoneFile(bad) }
    }
  }
}
