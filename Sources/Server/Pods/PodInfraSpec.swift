import Config
import OCI
import PodNetwork

/// The OCI spec of a pod's infra container (`drop_infra_ctr = false`). It
/// is the pod init's spec (PodInitSpec: its own PID and mount namespaces
/// joined to the pod's pinned ones, a read-only root, the pod's cgroup, no
/// capabilities, no_new_privs, the default seccomp profile, masked /proc
/// paths) on the pause image's root, running `pause_command`: in a pod
/// with a shared PID namespace it is that namespace's PID 1, reached by
/// every container through /proc/1, so it is confined exactly as the init
/// it replaces. CRI-O gives its pause its default capabilities and root;
/// the pause binary needs neither (it sleeps and reaps), so none are given.
struct PodInfraSpec: Sendable {
  /// The init's spec with `root` the mounted pause image and `cpuset`
  /// `infra_ctr_cpuset`.
  var base: PodInitSpec
  /// `PauseImage.command`.
  var command: [String]
  /// The pause image's `User`.
  var imageUser: String?
  /// The lowest oom_score_adj the daemon may set (nil: any).
  var oomScoreAdjFloor: Int?
  /// `default_ulimits`: CRI-O gives its pause these rlimits too.
  var ulimits: [Ulimit] = []

  /// CRI-O's PodInfraOOMAdj: the kernel kills the infra last, since its
  /// death ends the pod's shared PID namespace and every process in it.
  static let oomScoreAdj = -998
  /// CRI-O's PodInfraCPUshares: it sleeps, and takes the least CPU weight.
  static let cpuShares: UInt64 = 2
  /// runc resolves a command without a slash through the process's PATH;
  /// nothing else of any environment is given.
  static let path = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

  func build() -> Spec {
    var spec = base.build()
    var process = spec.process ?? Spec.Process(user: Spec.User(uid: PodInitSpec.user, gid: PodInitSpec.user), cwd: "/")
    process.args = command
    process.env = [Self.path]
    let (uid, gid) = Self.user(imageUser: imageUser)
    process.user = Spec.User(uid: inside(uid, base.userNamespace?.uids), gid: inside(gid, base.userNamespace?.gids))
    process.oomScoreAdj = oomScoreAdjFloor.map { max($0, Self.oomScoreAdj) } ?? Self.oomScoreAdj
    process.rlimits = ulimits.isEmpty ? nil : ulimits.map { Spec.Rlimit(type: $0.type, hard: $0.hard, soft: $0.soft) }
    spec.process = process
    var cpu = spec.linux?.resources?.cpu ?? Spec.CPU()
    cpu.shares = Self.cpuShares
    spec.linux?.resources?.cpu = cpu
    spec.annotations?["io.kubernetes.cri-o.ContainerName"] = "POD"
    return spec
  }

  /// Kubernetes' pause image runs as 65535:65535 (its `USER`). An image
  /// naming another numeric, non-root user (whose binary may be that
  /// user's alone) runs as that user; root, or a user by name (which
  /// would need the image's /etc/passwd, which a pause image lacks), is
  /// never taken: 65535 it is.
  static func user(imageUser: String?) -> (uid: UInt32, gid: UInt32) {
    let fallback = (PodInitSpec.user, PodInitSpec.user)
    guard let imageUser, !imageUser.isEmpty else { return fallback }
    let parts = imageUser.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
    guard let uid = UInt32(parts[0]), uid != 0 else { return fallback }
    let gid = parts.count > 1 ? UInt32(parts[1]) : uid
    guard let gid, gid != 0 else { return fallback }
    return (uid, gid)
  }

  /// In a user namespace that does not map `id`, the namespace's root
  /// (which is no one on the host), as for the init.
  private func inside(_ id: UInt32, _ ranges: [IDMapRange]?) -> UInt32 {
    guard let ranges else { return id }
    return UserNamespaceMappings.host(id, in: ranges) != nil ? id : 0
  }
}
