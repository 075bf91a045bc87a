/// `[crio.runtime]`: how containers are created and run.
public struct RuntimeConfig: Sendable, Equatable {
  /// `default_runtime`: handler used when the kubelet names none; must be a key of `runtimes`.
  public var defaultRuntime: String = "runc"
  /// `[crio.runtime.runtimes.<name>]`: files add handlers or override single keys of existing ones.
  public var runtimes: [String: RuntimeHandler] = ["runc": RuntimeHandler()]
  /// `default_ulimits`: `name=soft[:hard]` entries (Docker's syntax) for every container.
  public var defaultUlimits: [String] = []
  /// `default_ulimits` parsed (validation refused what does not parse).
  public var ulimits: [Ulimit] { defaultUlimits.compactMap(Ulimit.init(parsing:)) }
  /// `no_pivot`: use MS_MOVE instead of pivot_root (needed on ramdisk roots).
  public var noPivot: Bool = false
  /// `decryption_keys_path`: keys for encrypted images, which this daemon cannot pull.
  public var decryptionKeysPath: String = "/etc/crio/keys/"
  /// `conmon`, `conmon_cgroup`, `conmon_env`: CRI-O's deprecated spellings of the
  /// handlers' `monitor_path`, `monitor_cgroup` and `monitor_env`; when set they
  /// override those of every "oci" handler (see `translateDeprecatedMonitorKeys`).
  public var conmon: String = ""
  public var conmonCgroup: String = ""
  public var conmonEnv: [String] = []
  /// `default_env`: `KEY=value` entries added to every container.
  public var defaultEnv: [String] = []
  /// `selinux`.
  public var selinux: Bool = false
  /// `seccomp_profile`: "" means the built-in default profile.
  public var seccompProfile: String = ""
  /// `seccomp_use_default_when_empty`: a container whose request names no
  /// seccomp profile gets the runtime default (CRI-O's default) rather than
  /// none (the CRI's reading, which critest checks).
  public var seccompUseDefaultWhenEmpty: Bool = true
  /// `apparmor_profile`.
  public var apparmorProfile: String = "crio-default"
  /// `blockio_config_file`, `irqbalance_config_file`, `rdt_config_file`: files of CRI-O
  /// features this daemon does not have, accepted at their defaults only.
  public var blockioConfigFile: String = ""
  public var irqbalanceConfigFile: String = "/etc/sysconfig/irqbalance"
  public var rdtConfigFile: String = ""
  /// `cgroup_manager`. `ConfigLoader.defaults()` picks cgroupfs on hosts without systemd.
  public var cgroupManager: CgroupManager = .systemd
  /// `separate_pull_cgroup`: "" pulls in the daemon's own cgroup (the only way here).
  public var separatePullCgroup: String = ""
  /// `default_capabilities`: names as written (with or without `CAP_`, any case);
  /// use `LinuxCapability.canonicalName(_:)` to normalise.
  public var defaultCapabilities: [String] = [
    "CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "SETGID", "SETUID", "SETPCAP", "NET_BIND_SERVICE", "KILL",
  ]
  /// `add_inheritable_capabilities`.
  public var addInheritableCapabilities: Bool = false
  /// `default_sysctls`: `key=value` entries.
  public var defaultSysctls: [String] = []
  /// `allowed_devices`: host devices a pod may request through the device annotation.
  public var allowedDevices: [String] = ["/dev/fuse", "/dev/net/tun"]
  /// `additional_devices`: `host[:container][:permissions]` entries added to every container.
  public var additionalDevices: [String] = []
  /// `cdi_spec_dirs`: directories of CDI device specs, later ones take precedence.
  public var cdiSpecDirs: [String] = ["/etc/cdi", "/var/run/cdi"]
  /// `device_ownership_from_security_context`.
  public var deviceOwnershipFromSecurityContext: Bool = false
  /// `hooks_dir`: OCI hook directories, later ones take precedence.
  public var hooksDir: [String] = ["/usr/share/containers/oci/hooks.d"]
  /// `default_mounts_file`: "" means none.
  public var defaultMountsFile: String = ""
  /// `pids_limit`: the pids cgroup limit of every container; 0 (or less) sets none.
  public var pidsLimit: Int = 0
  /// `log_size_max`: negative means unlimited, otherwise at least 8192 (conmon's buffer size).
  public var logSizeMax: Int = -1
  /// `log_to_journald`.
  public var logToJournald: Bool = false
  /// `container_exits_dir`.
  public var containerExitsDir: String = "/var/run/crio/exits"
  /// `container_attach_socket_dir`.
  public var containerAttachSocketDir: String = "/var/run/crio"
  /// `bind_mount_prefix`.
  public var bindMountPrefix: String = ""
  /// `read_only`.
  public var readOnly: Bool = false
  /// `log_level`.
  public var logLevel: LogLevel = .info
  /// `log_filter`: a regular expression; only matching log lines are written.
  public var logFilter: String = ""
  /// `uid_mappings` / `gid_mappings`: `containerID:hostID:size[,...]`.
  public var uidMappings: String = ""
  public var gidMappings: String = ""
  /// `minimum_mappable_uid` / `minimum_mappable_gid`: -1 means no minimum.
  public var minimumMappableUID: Int = -1
  public var minimumMappableGID: Int = -1
  /// `ctr_stop_timeout`: seconds a stop waits for a killed container to be gone;
  /// at least `minimumCtrStopTimeout`, as in CRI-O.
  public var ctrStopTimeout: Int = 30
  public static let minimumCtrStopTimeout = 30
  /// `drop_infra_ctr`: skip the pause container when the pod shares no namespace with it.
  public var dropInfraCtr: Bool = true
  /// `infra_ctr_cpuset` / `shared_cpuset`: Linux cpuset lists such as `0-3,6`.
  public var infraCtrCpuset: String = ""
  public var sharedCpuset: String = ""
  /// `namespaces_dir`.
  public var namespacesDir: String = "/var/run"
  /// `pinns_path`: "" means look `pinns` up in PATH.
  public var pinnsPath: String = ""
  /// `absent_mount_sources_to_reject`: host paths that must exist when bind-mounted.
  public var absentMountSourcesToReject: [String] = []
  /// `enable_criu_support`.
  public var enableCriuSupport: Bool = false
  /// `enable_pod_events`.
  public var enablePodEvents: Bool = false
  /// `timezone`: "" keeps the image's, "Local" uses the host's, else an IANA zone name.
  public var timezone: String = ""

  public init() {}

  /// CRI-O's `TranslateMonitorFields`: the deprecated `conmon*` keys, when set, replace
  /// the monitor settings of every "oci" handler (the ones conmon monitors).
  public mutating func translateDeprecatedMonitorKeys() {
    for (name, var handler) in runtimes where handler.runtimeType == "oci" {
      if !conmon.isEmpty { handler.monitorPath = conmon }
      if !conmonCgroup.isEmpty { handler.monitorCgroup = conmonCgroup }
      if !conmonEnv.isEmpty { handler.monitorEnv = conmonEnv }
      runtimes[name] = handler
    }
  }
}

/// `[crio.runtime.runtimes.<name>]`: one OCI runtime the kubelet can select by handler name.
public struct RuntimeHandler: Sendable, Equatable {
  /// `runtime_path`: "" means look the handler name up in PATH.
  public var runtimePath: String = ""
  /// `runtime_type`: "oci", "vm" or "pod".
  public var runtimeType: String = "oci"
  /// `runtime_root`: the runtime's state directory, `/run/<name>` unless set; see `resolvedRuntimeRoot(handlerName:)`.
  public var runtimeRoot: String = "/run/runc"
  /// `runtime_config_path`.
  public var runtimeConfigPath: String = ""
  /// `monitor_path`: "" means conmon from PATH.
  public var monitorPath: String = ""
  /// `monitor_cgroup`: kept as written; "" is resolved by `resolvedMonitorCgroup(for:)`.
  public var monitorCgroup: String = ""
  /// `monitor_env`: `KEY=value` entries for the monitor process.
  public var monitorEnv: [String] = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
  /// `monitor_exec_cgroup`: "" runs exec monitors where the container's monitor runs.
  public var monitorExecCgroup: String = ""
  /// `allowed_annotations`: annotation prefixes this handler may act on.
  public var allowedAnnotations: [String] = []
  /// `privileged_without_host_devices`.
  public var privilegedWithoutHostDevices: Bool = false

  /// The built-in `runc` handler.
  public init() {}

  /// A handler first declared by a config file: CRI-O defaults its state directory to `/run/<name>`.
  public init(name: String) {
    runtimeRoot = "/run/\(name)"
  }

  /// The state directory to pass to the runtime: an explicit "" also means `/run/<name>`.
  public func resolvedRuntimeRoot(handlerName: String) -> String {
    runtimeRoot.isEmpty ? "/run/\(handlerName)" : runtimeRoot
  }

  /// The cgroup the monitor runs in: an empty `monitor_cgroup` means `system.slice` under
  /// systemd and the pod's cgroup under cgroupfs, as in CRI-O.
  public func resolvedMonitorCgroup(for manager: CgroupManager) -> String {
    guard monitorCgroup.isEmpty else { return monitorCgroup }
    return manager == .systemd ? "system.slice" : "pod"
  }
}
