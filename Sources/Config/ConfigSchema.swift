/// Every supported key, in CRI-O's `crio config` order. A key is declared here once; the
/// loader, `validate()`, the renderers and unknown-key detection all read these lists.
enum ConfigSchema {
  /// Tables in render order, each with the one-line comment printed above its header.
  static let tables: [(path: String, doc: String)] = [
    ("crio", "Storage and state locations of the daemon."),
    ("crio.api", "The kubelet-facing gRPC endpoint and the streaming server."),
    ("crio.runtime", "How containers are created and run."),
    ("crio.image", "Pulling and storing images."),
    ("crio.network", "CNI configuration."),
    ("crio.metrics", "The Prometheus metrics endpoint."),
    ("crio.tracing", "OpenTelemetry tracing (not exported by this daemon: defaults only)."),
    ("crio.nri", "Node Resource Interface plugins (not run by this daemon: defaults only)."),
    ("crio.stats", "Container and pod statistics."),
  ]

  /// The table of runtime handlers, one sub-table per handler name.
  static let handlersTable = "crio.runtime.runtimes"

  static let keys: [ConfigKey<CrioConfig>] = rootKeys + apiKeys + runtimeKeys + imageKeys + otherKeys

  private static let rootKeys: [ConfigKey<CrioConfig>] = [
    .string("crio", "root", "Root directory: images and containers are stored here.", \.root, check: Check.absolutePath),
    .string("crio", "runroot", "Run directory: volatile state is kept here.", \.runroot, check: Check.absolutePath),
    .string("crio", "storage_driver", "Storage driver for images and containers (see containers-storage.conf(5)).", \.storageDriver, check: Check.storageDriver),
    .strings("crio", "storage_option", "Options passed to the storage driver (see containers-storage.conf(5)).", \.storageOption, each: Check.storageOption),
    .string("crio", "log_dir", "Directory for container logs unless the kubelet names one.", \.logDir, check: Check.absolutePath),
    .string("crio", "version_file", "Version file on tmpfs; when missing at start the node rebooted and containers are wiped.", \.versionFile, check: Check.absolutePathOrEmpty),
    .string("crio", "version_file_persist", "Persistent version file; a changed version at start wipes images (\"\" = never).", \.versionFilePersist, check: Check.absolutePathOrEmpty),
    .bool("crio", "internal_wipe", "Wipe stale containers and images at start instead of relying on `crio wipe`.", \.internalWipe),
    .string("crio", "clean_shutdown_file", "Written on clean shutdown; when missing at start, storage is checked and wiped.", \.cleanShutdownFile, check: Check.absolutePathOrEmpty),
  ]

  private static let apiKeys: [ConfigKey<CrioConfig>] = [
    .string("crio.api", "listen", "Path of the unix socket the CRI gRPC server listens on.", \.api.listen, check: Check.absolutePath),
    .string("crio.api", "stream_address", "IP address the stream server (exec, attach, port-forward) listens on.", \.api.streamAddress),
    .string("crio.api", "stream_port", "Port of the stream server, as a string; \"0\" picks a free port.", \.api.streamPort, check: Check.portString),
    .bool("crio.api", "stream_enable_tls", "Serve the stream server over TLS (needs stream_tls_cert and stream_tls_key).", \.api.streamEnableTLS),
    .string("crio.api", "stream_idle_timeout", "Close streams idle for this Go duration (\"\" = never).", \.api.streamIdleTimeout, check: Check.goDurationOrEmpty),
    .string("crio.api", "stream_tls_cert", "x509 certificate of the stream server; reloaded when it changes.", \.api.streamTLSCert),
    .string("crio.api", "stream_tls_key", "Private key of the stream server; reloaded when it changes.", \.api.streamTLSKey),
    .string("crio.api", "stream_tls_ca", "CA bundle that stream clients must be signed by; reloaded when it changes.", \.api.streamTLSCA),
    .int("crio.api", "grpc_max_send_msg_size", "Largest gRPC message the daemon sends, in bytes.", \.api.grpcMaxSendMsgSize, check: Check.atLeast(1)),
    .int("crio.api", "grpc_max_recv_msg_size", "Largest gRPC message the daemon accepts, in bytes.", \.api.grpcMaxRecvMsgSize, check: Check.atLeast(1)),
  ]

  private static let runtimeKeys: [ConfigKey<CrioConfig>] = [
    .strings("crio.runtime", "default_ulimits", "Rlimits (\"name=soft:hard\", e.g. \"nofile=1024:2048\") of every container (none: inherited).", \.runtime.defaultUlimits, each: Check.ulimit),
    .bool("crio.runtime", "no_pivot", "Use MS_MOVE instead of pivot_root (for ramdisk root filesystems).", \.runtime.noPivot),
    .string("crio.runtime", "decryption_keys_path", "Keys for decrypting encrypted images.", \.runtime.decryptionKeysPath)
      .refusedUnlessDefault("encrypted images cannot be pulled by this daemon, so no key is ever used"),
    .string("crio.runtime", "conmon", "Deprecated: sets monitor_path of every \"oci\" handler (\"\" = leave them).", \.runtime.conmon, check: Check.absolutePathOrEmpty),
    .string("crio.runtime", "conmon_cgroup", "Deprecated: sets monitor_cgroup of every \"oci\" handler (\"\" = leave them).", \.runtime.conmonCgroup),
    .strings("crio.runtime", "conmon_env", "Deprecated: sets monitor_env of every \"oci\" handler ([] = leave them).", \.runtime.conmonEnv, each: Check.envEntry),
    .strings("crio.runtime", "default_env", "Environment (\"KEY=value\") added to every container; the image and pod override it.", \.runtime.defaultEnv, each: Check.envEntry),
    .bool("crio.runtime", "selinux", "Separate pods with SELinux labels.", \.runtime.selinux),
    .string("crio.runtime", "seccomp_profile", "Path of the default seccomp profile (\"\" = the built-in one).", \.runtime.seccompProfile),
    .bool("crio.runtime", "seccomp_use_default_when_empty", "Give containers that name no seccomp profile the default one (false: unconfined).", \.runtime.seccompUseDefaultWhenEmpty),
    .string("crio.runtime", "apparmor_profile", "Name of the default AppArmor profile.", \.runtime.apparmorProfile),
    .string("crio.runtime", "blockio_config_file", "Block I/O classes for the blockio annotation.", \.runtime.blockioConfigFile)
      .refusedUnlessDefault("block I/O classes are not supported by this daemon"),
    .string("crio.runtime", "irqbalance_config_file", "irqbalance configuration updated for IRQ load-balancing annotations.", \.runtime.irqbalanceConfigFile)
      .refusedUnlessDefault("the IRQ load-balancing annotations are not supported by this daemon, so it never edits that file"),
    .string("crio.runtime", "rdt_config_file", "RDT (resctrl) classes for the RDT annotation.", \.runtime.rdtConfigFile)
      .refusedUnlessDefault("RDT classes are not supported by this daemon"),
    .choice("crio.runtime", "cgroup_manager", "Cgroup manager: \"systemd\" or \"cgroupfs\"; must match the kubelet's.", \.runtime.cgroupManager),
    .string("crio.runtime", "separate_pull_cgroup", "Cgroup image pulls run in (\"\" = the daemon's).", \.runtime.separatePullCgroup)
      .refusedUnlessDefault("pulls always run inside the daemon's own cgroup here"),
    .strings("crio.runtime", "default_capabilities", "Capabilities every container gets unless the pod drops them.", \.runtime.defaultCapabilities, each: Check.capability),
    .bool("crio.runtime", "add_inheritable_capabilities", "Also add the default capabilities to the inheritable set.", \.runtime.addInheritableCapabilities),
    .strings("crio.runtime", "default_sysctls", "Sysctls (\"key=value\") set in every pod.", \.runtime.defaultSysctls, each: Check.sysctl),
    .strings("crio.runtime", "allowed_devices", "Host devices pods may request with the io.kubernetes.cri-o.Devices annotation.", \.runtime.allowedDevices, each: Check.absolutePath),
    .strings("crio.runtime", "additional_devices", "Devices (\"/dev/host[:/dev/container][:rwm]\") added to every container.", \.runtime.additionalDevices, each: Check.device),
    .strings("crio.runtime", "cdi_spec_dirs", "Directories of CDI device specs (*.json, *.yaml); a later directory wins for the same device.", \.runtime.cdiSpecDirs, each: Check.absolutePath),
    .bool("crio.runtime", "device_ownership_from_security_context", "Give devices the container's run-as user and group instead of root.", \.runtime.deviceOwnershipFromSecurityContext),
    .strings("crio.runtime", "hooks_dir", "OCI hook directories; later entries take precedence.", \.runtime.hooksDir, each: Check.absolutePath),
    .string("crio.runtime", "default_mounts_file", "File listing \"/SRC:/DST\" mounts added to every container (\"\" = none).", \.runtime.defaultMountsFile, check: Check.absolutePathOrEmpty),
    .int("crio.runtime", "pids_limit", "Most processes a container may have (0 = no limit of the daemon's; deprecated for the kubelet's --pod-pids-limit).", \.runtime.pidsLimit),
    .int("crio.runtime", "log_size_max", "Largest container log file in bytes: negative = no limit, else at least 8192.", \.runtime.logSizeMax, check: Check.logSizeMax),
    .bool("crio.runtime", "log_to_journald", "Also send container logs to journald.", \.runtime.logToJournald),
    .string("crio.runtime", "container_exits_dir", "Directory where the monitor records container exit codes.", \.runtime.containerExitsDir, check: Check.absolutePath),
    .string("crio.runtime", "container_attach_socket_dir", "Directory for container attach sockets.", \.runtime.containerAttachSocketDir, check: Check.absolutePath),
    .string("crio.runtime", "bind_mount_prefix", "Prefix added to the host side of every bind mount (for running in a container).", \.runtime.bindMountPrefix),
    .bool("crio.runtime", "read_only", "Run every container with a read-only root filesystem.", \.runtime.readOnly),
    .choice("crio.runtime", "log_level", "Daemon log level: trace, debug, info, warn, error, fatal or panic.", \.runtime.logLevel, parse: LogLevel.init(parsing:)),
    .string("crio.runtime", "log_filter", "Regular expression; only matching daemon log lines are written (\"\" = all).", \.runtime.logFilter, check: Check.regex),
    .string("crio.runtime", "uid_mappings", "User namespace UID ranges \"containerUID:hostUID:size\", comma-separated.", \.runtime.uidMappings, check: Check.idMappings),
    .string("crio.runtime", "gid_mappings", "User namespace GID ranges \"containerGID:hostGID:size\", comma-separated.", \.runtime.gidMappings, check: Check.idMappings),
    .int("crio.runtime", "minimum_mappable_uid", "Lowest host UID a pod may map (-1 = no limit).", \.runtime.minimumMappableUID, check: Check.atLeast(-1)),
    .int("crio.runtime", "minimum_mappable_gid", "Lowest host GID a pod may map (-1 = no limit).", \.runtime.minimumMappableGID, check: Check.atLeast(-1)),
    .int("crio.runtime", "ctr_stop_timeout", "Seconds a stop waits for a killed container to be gone before it reports an error (at least 30, as in CRI-O).", \.runtime.ctrStopTimeout, check: Check.atLeast(0)),
    .bool("crio.runtime", "drop_infra_ctr", "Skip the pause container for pods that do not share its namespaces.", \.runtime.dropInfraCtr),
    .string("crio.runtime", "infra_ctr_cpuset", "CPUs (\"0-3,6\") the pause containers run on (\"\" = any).", \.runtime.infraCtrCpuset, check: Check.cpuset),
    .string("crio.runtime", "shared_cpuset", "CPUs (\"0-3,6\") that guaranteed containers may share (\"\" = none).", \.runtime.sharedCpuset, check: Check.cpuset)
      .refusedUnlessDefault("the cpu-shared annotation that hands out these CPUs is not supported by this daemon"),
    .string("crio.runtime", "namespaces_dir", "Directory where pinned namespaces are kept.", \.runtime.namespacesDir, check: Check.absolutePath),
    .string("crio.runtime", "pinns_path", "Path of the pinns binary (\"\" = look it up in PATH).", \.runtime.pinnsPath, check: Check.absolutePathOrEmpty)
      .refusedUnlessDefault("this daemon pins namespaces with its own `crio pinns`; no separate pinns binary is run"),
    .bool("crio.runtime", "enable_criu_support", "Allow checkpoint and restore with CRIU.", \.runtime.enableCriuSupport)
      .refusedUnlessDefault("checkpoint and restore (CheckpointContainer) are not implemented by this daemon"),
    .bool("crio.runtime", "enable_pod_events", "Send container events to the kubelet (evented PLEG).", \.runtime.enablePodEvents),
    .string("crio.runtime", "default_runtime", "Runtime handler used when the kubelet names none; must be defined below.", \.runtime.defaultRuntime, check: Check.handlerName),
    .strings("crio.runtime", "absent_mount_sources_to_reject", "Bind-mount sources that must already exist instead of being created.", \.runtime.absentMountSourcesToReject, each: Check.absolutePath),
    .string("crio.runtime", "timezone", "Container time zone: \"\" = the image's, \"Local\" = the host's, else an IANA name.", \.runtime.timezone),
  ]

  private static let imageKeys: [ConfigKey<CrioConfig>] = [
    .string("crio.image", "default_transport", "Transport prepended to image names that carry none.", \.image.defaultTransport, check: Check.nonEmpty)
      .refusedUnlessDefault("this daemon pulls from registries (docker://) only"),
    .string("crio.image", "global_auth_file", "Registry credentials file used for every pull (\"\" = none).", \.image.globalAuthFile, check: Check.absolutePathOrEmpty),
    .string("crio.image", "pause_image", "Image of the pause (infra) container.", \.image.pauseImage, check: Check.nonEmpty),
    .string("crio.image", "pause_image_auth_file", "Registry credentials file for pulling the pause image (\"\" = none).", \.image.pauseImageAuthFile, check: Check.absolutePathOrEmpty),
    .string("crio.image", "pause_command", "Command the pause container runs (\"\" = the pause image's entrypoint).", \.image.pauseCommand),
    .strings("crio.image", "pinned_images", "Images the kubelet never garbage-collects; a trailing * matches a prefix.", \.image.pinnedImages),
    .string("crio.image", "signature_policy", "Signature policy file (\"\" = /etc/containers/policy.json).", \.image.signaturePolicy, check: Check.absolutePathOrEmpty),
    .string("crio.image", "signature_policy_dir", "Directory of per-namespace signature policies (<namespace>.json).", \.image.signaturePolicyDir, check: Check.absolutePathOrEmpty),
    .strings("crio.image", "insecure_registries", "Registries pulled from without TLS verification.", \.image.insecureRegistries),
    .string("crio.image", "image_volumes", "Image VOLUMEs: \"mkdir\" creates them, \"bind\" bind-mounts them, \"ignore\" skips them.", \.image.imageVolumes, check: Check.oneOf(["mkdir", "bind", "ignore"])),
    .string("crio.image", "big_files_temporary_dir", "Where CRI-O stages layer downloads. Here layers stream from the registry straight into storage, so nothing big is staged and any directory is accepted; start-up removes downloads an earlier build of this daemon left there.", \.image.bigFilesTemporaryDir, check: Check.absolutePathOrEmpty),
    .bool("crio.image", "auto_reload_registries", "Reload registries.conf when it changes.", \.image.autoReloadRegistries),
    .string("crio.image", "pull_progress_timeout", "Cancel a pull that makes no progress for this Go duration (\"0s\" = never).", \.image.pullProgressTimeout, check: Check.nonNegativeGoDuration),
    .int("crio.image", "max_parallel_downloads", "Layers downloaded at once per pull (this daemon's key, not CRI-O's).", \.image.maxParallelDownloads, check: Check.atLeast(1)),
    .string("crio.image", "registries_conf", "registries.conf path (this daemon's key for CRI-O's --registries-conf).", \.image.registriesConf, check: Check.absolutePathOrEmpty),
    .string("crio.image", "registries_conf_dir", "registries.conf.d path (this daemon's key for CRI-O's --registries-conf-dir).", \.image.registriesConfDir, check: Check.absolutePathOrEmpty),
  ]

  private static let otherKeys: [ConfigKey<CrioConfig>] = [
    .string("crio.network", "cni_default_network", "CNI network to use (\"\" = the first one found in network_dir).", \.network.cniDefaultNetwork),
    .string("crio.network", "network_dir", "Directory of CNI network configurations.", \.network.networkDir, check: Check.absolutePath),
    .strings("crio.network", "plugin_dirs", "Directories searched for CNI plugin binaries.", \.network.pluginDirs, each: Check.absolutePath),

    .bool("crio.metrics", "enable_metrics", "Serve Prometheus metrics.", \.metrics.enableMetrics),
    .strings("crio.metrics", "metrics_collectors", "Metrics to collect, by name without the crio_ prefix.", \.metrics.metricsCollectors, each: Check.nonEmpty),
    .string("crio.metrics", "metrics_host", "Address the metrics endpoint listens on.", \.metrics.metricsHost),
    .int("crio.metrics", "metrics_port", "Port the metrics endpoint listens on.", \.metrics.metricsPort, check: Check.port),
    .string("crio.metrics", "metrics_socket", "Unix socket to serve metrics on instead of host and port (\"\" = none).", \.metrics.metricsSocket, check: Check.absolutePathOrEmpty),
    .string("crio.metrics", "metrics_cert", "Certificate for serving metrics over HTTPS (\"\" = plain HTTP).", \.metrics.metricsCert),
    .string("crio.metrics", "metrics_key", "Private key for serving metrics over HTTPS.", \.metrics.metricsKey),

    .bool("crio.tracing", "enable_tracing", "Export OpenTelemetry traces.", \.tracing.enableTracing)
      .refusedUnlessDefault("this daemon exports no traces"),
    .string("crio.tracing", "tracing_endpoint", "Address of the OpenTelemetry collector.", \.tracing.tracingEndpoint)
      .refusedUnlessDefault("this daemon exports no traces"),
    .int("crio.tracing", "tracing_sampling_rate_per_million", "Traces sampled per million spans.", \.tracing.tracingSamplingRatePerMillion)
      .refusedUnlessDefault("this daemon exports no traces"),

    .bool("crio.nri", "enable_nri", "Run Node Resource Interface plugins.", \.nri.enableNRI)
      .refusedUnlessDefault("NRI plugins are not supported by this daemon"),
    .string("crio.nri", "nri_listen", "Socket NRI plugins connect to.", \.nri.nriListen)
      .refusedUnlessDefault("NRI plugins are not supported by this daemon"),
    .string("crio.nri", "nri_plugin_dir", "Directory of NRI plugins started with the daemon.", \.nri.nriPluginDir)
      .refusedUnlessDefault("NRI plugins are not supported by this daemon"),
    .string("crio.nri", "nri_plugin_config_dir", "Directory of NRI plugin configurations.", \.nri.nriPluginConfigDir)
      .refusedUnlessDefault("NRI plugins are not supported by this daemon"),
    .bool("crio.nri", "nri_disable_connections", "Refuse externally started NRI plugins.", \.nri.nriDisableConnections)
      .refusedUnlessDefault("NRI plugins are not supported by this daemon"),
    .string("crio.nri", "nri_plugin_registration_timeout", "How long an NRI plugin may take to register.", \.nri.nriPluginRegistrationTimeout)
      .refusedUnlessDefault("NRI plugins are not supported by this daemon"),
    .string("crio.nri", "nri_plugin_request_timeout", "How long an NRI plugin may take to answer.", \.nri.nriPluginRequestTimeout)
      .refusedUnlessDefault("NRI plugins are not supported by this daemon"),

    .int("crio.stats", "stats_collection_period", "Seconds between pod and container stats collections (0 = on demand).", \.stats.statsCollectionPeriod, check: Check.atLeast(0)),
    .int("crio.stats", "collection_period", "Seconds between metrics collections for stats (0 = on demand).", \.stats.collectionPeriod, check: Check.atLeast(0)),
  ]

  /// Keys of each `[crio.runtime.runtimes.<name>]` table.
  static let handlerKeys: [ConfigKey<RuntimeHandler>] = [
    .string(handlersTable, "runtime_path", "Path of the OCI runtime binary (\"\" = the handler name looked up in PATH).", \.runtimePath, check: Check.absolutePathOrEmpty),
    .string(handlersTable, "runtime_type", "\"oci\" for runc-like runtimes, \"vm\" for shim v2 runtimes, \"pod\" for runtimes with a pod monitor.", \.runtimeType, check: Check.oneOf(["oci", "vm", "pod"])),
    .string(handlersTable, "runtime_root", "State directory of the runtime (default and \"\" = /run/<handler name>).", \.runtimeRoot, check: Check.absolutePathOrEmpty),
    .string(handlersTable, "runtime_config_path", "Configuration file passed to the runtime (\"\" = none).", \.runtimeConfigPath, check: Check.absolutePathOrEmpty)
      .refusedUnlessDefault("only VM (shim v2) runtimes read it, and this daemon runs none"),
    .string(handlersTable, "monitor_path", "Path of the container monitor: conmon for runtime_type \"oci\" (\"\" = look it up in PATH), the pod monitor for \"pod\" (\"\" = crio-monitor beside crio).", \.monitorPath, check: Check.absolutePathOrEmpty),
    .string(handlersTable, "monitor_cgroup", "Cgroup of the monitor: \"pod\", a systemd slice, or \"\" for system.slice (systemd) / pod (cgroupfs).", \.monitorCgroup),
    .strings(handlersTable, "monitor_env", "Environment (\"KEY=value\") of the monitor process.", \.monitorEnv, each: Check.envEntry),
    .string(handlersTable, "monitor_exec_cgroup", "Cgroup of the monitors of ExecSync processes (\"\" = as monitor_cgroup).", \.monitorExecCgroup)
      .refusedUnlessDefault("exec monitors run in the container's monitor cgroup here"),
    .strings(handlersTable, "allowed_annotations", "Experimental annotations this handler may act on.", \.allowedAnnotations),
    .bool(handlersTable, "privileged_without_host_devices", "Do not give privileged containers the host's devices.", \.privilegedWithoutHostDevices),
  ]

  /// `[crio.runtime.workloads.<name>]`: CRI-O's workload tables, refused unless empty.
  static let workloadsTable = "crio.runtime.workloads"

  /// The table paths keys may live in.
  static let tablePaths: Set<String> = Set(tables.map(\.path))

  static func key(table: String, name: String) -> ConfigKey<CrioConfig>? {
    keys.first { $0.table == table && $0.name == name }
  }

  static func handlerKey(named name: String) -> ConfigKey<RuntimeHandler>? {
    handlerKeys.first { $0.name == name }
  }

  /// `[crio.runtime.runtimes.<name>]` with the name quoted when TOML needs it.
  static func handlerTable(_ name: String) -> String {
    "\(handlersTable).\(TOMLText.key(name))"
  }
}
