import ContainerSecurity
import OCI
import PodInit
import PodNetwork

/// The OCI spec of a pod's init: the PID 1 of a shared PID namespace (CRI-O
/// runs its pause container there). It is a container like any other for
/// runc, confined as tightly as one can be, because every container of the
/// pod reaches it through /proc/1 (`/proc/1/root` of a host process was a
/// host escape): its own mount namespace on a read-only root holding only
/// the init, the pod's cgroup, no capabilities, no_new_privs, the default
/// seccomp profile, an empty environment, and no descriptors (the init
/// closes the ones runc hands it).
struct PodInitSpec: Sendable {
  var podID: String
  /// The directory `PodInitBinary.installRoot` made.
  var root: String
  var namespaces: PinnedNamespaces
  var userNamespace: UserNamespaceMappings?
  /// runc's `cgroupsPath` (cgroupfs `<parent>/crio-<pod ID>` or systemd `<slice>:crio:<pod ID>`).
  var cgroupsPath: String
  /// Whether the host's cgroups are v2 (then the init gets a cgroup namespace).
  var cgroupV2: Bool
  /// `infra_ctr_cpuset`: the CPUs it may run on (nil: any). CRI-O gives
  /// its pause container this set, and the init stands in for that pause.
  var cpuset: String? = nil

  /// Kubernetes' pause image runs as 65535; in a user namespace that does
  /// not map it, the namespace's root (which is no one on the host).
  static let user: UInt32 = 65535

  func build() -> Spec {
    func inside(_ ranges: [IDMapRange]?) -> UInt32 {
      guard let ranges else { return Self.user }
      return UserNamespaceMappings.host(Self.user, in: ranges) != nil ? Self.user : 0
    }
    var process = Spec.Process(user: Spec.User(uid: inside(userNamespace?.uids), gid: inside(userNamespace?.gids)), cwd: "/")
    process.args = [PodInitBinary.command]
    process.env = []
    process.capabilities = Spec.Capabilities(bounding: [], effective: [], inheritable: [], permitted: [], ambient: [])
    process.noNewPrivileges = true

    var spec = Spec()
    spec.process = process
    spec.root = Spec.Root(path: root, readonly: true)
    spec.mounts = [
      // runc's own set-up needs /proc inside; /dev is a private tmpfs so
      // runc's device nodes never land in the shared root directory.
      Spec.Mount(destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"]),
      Spec.Mount(
        destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "noexec", "strictatime", "mode=755", "size=64k"]),
    ]
    spec.annotations = ["io.kubernetes.cri-o.ContainerType": "sandbox", "io.kubernetes.cri-o.SandboxID": podID]

    var linux = Spec.Linux()
    var namespaceList: [Spec.Namespace] = []
    if let user = namespaces.user {
      namespaceList.append(Spec.Namespace(type: "user", path: user))
      linux.uidMappings = userNamespace?.uids
      linux.gidMappings = userNamespace?.gids
    }
    namespaceList += [Spec.Namespace(type: "pid"), Spec.Namespace(type: "mount")]
    if let path = namespaces.network { namespaceList.append(Spec.Namespace(type: "network", path: path)) }
    if let path = namespaces.ipc { namespaceList.append(Spec.Namespace(type: "ipc", path: path)) }
    if let path = namespaces.uts { namespaceList.append(Spec.Namespace(type: "uts", path: path)) }
    if cgroupV2 { namespaceList.append(Spec.Namespace(type: "cgroup")) }
    linux.namespaces = namespaceList
    linux.cgroupsPath = cgroupsPath
    var resources = Spec.Resources()
    resources.devices = ContainerSpecBuilder.defaultDeviceRules
    if let cpuset { resources.cpu = Spec.CPU(cpus: cpuset) }
    linux.resources = resources
    linux.seccomp = SeccompProfiles.runtimeDefault(capabilities: [])
    linux.maskedPaths = ContainerSpecBuilder.defaultMaskedPaths
    linux.readonlyPaths = ContainerSpecBuilder.defaultReadonlyPaths
    spec.linux = linux
    return spec
  }
}
