/// Version facts reported by `Version`, `crio version` and the logs.
public enum ProjectVersion {
  /// The daemon's own version (semver).
  public static let version = "0.1.0"
  /// kubelet and cAdvisor switch CRI-O-specific behaviour on this name, and
  /// the daemon is a drop-in for CRI-O, so it answers as "cri-o".
  public static let runtimeName = "cri-o"
  /// The CRI version served.
  public static let runtimeAPIVersion = "v1"
  /// The version of the CRI protocol file the stubs were generated from.
  public static let criAPIRelease = "k8s.io/cri-api v0.36.3"
}
