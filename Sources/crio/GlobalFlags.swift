/// CRI-O 1.26's global flags (`crio --help`, internal/criocli/criocli.go),
/// in its order, each with the key it sets; the flags for features this
/// daemon does not have are refused by name. `--runtime-path` and
/// `--metrics-host` are this daemon's own.
extension GlobalFlag {
  static let all: [GlobalFlag] = files + api + logging + images + storage + runtime + network + metrics + state + refusedFlags

  private static let files: [GlobalFlag] = [
    GlobalFlag("config", short: "c", .configFile, help: "Path to the configuration file (default /etc/crio/crio.conf; \"\" = none)."),
    GlobalFlag("config-dir", short: "d", .configDir, help: "Directory of drop-in configuration files, applied in lexical order (default /etc/crio/crio.conf.d; \"\" = none)."),
  ]

  private static let api: [GlobalFlag] = [
    GlobalFlag("listen", .key(table: "crio.api", name: "listen")),
    GlobalFlag("stream-address", .key(table: "crio.api", name: "stream_address")),
    GlobalFlag("stream-port", .key(table: "crio.api", name: "stream_port")),
    GlobalFlag("stream-enable-tls", .key(table: "crio.api", name: "stream_enable_tls")),
    GlobalFlag("stream-tls-ca", .key(table: "crio.api", name: "stream_tls_ca")),
    GlobalFlag("stream-tls-cert", .key(table: "crio.api", name: "stream_tls_cert")),
    GlobalFlag("stream-tls-key", .key(table: "crio.api", name: "stream_tls_key")),
    GlobalFlag("stream-idle-timeout", .key(table: "crio.api", name: "stream_idle_timeout")),
    GlobalFlag("grpc-max-recv-msg-size", .key(table: "crio.api", name: "grpc_max_recv_msg_size")),
    GlobalFlag("grpc-max-send-msg-size", .key(table: "crio.api", name: "grpc_max_send_msg_size")),
  ]

  private static let logging: [GlobalFlag] = [
    GlobalFlag("log-level", short: "l", .key(table: "crio.runtime", name: "log_level")),
    GlobalFlag("log-filter", .key(table: "crio.runtime", name: "log_filter")),
    GlobalFlag("log-dir", .key(table: "crio", name: "log_dir")),
    GlobalFlag("log-size-max", .key(table: "crio.runtime", name: "log_size_max")),
    GlobalFlag("log-journald", .key(table: "crio.runtime", name: "log_to_journald")),
  ]

  private static let images: [GlobalFlag] = [
    GlobalFlag("pause-command", .key(table: "crio.image", name: "pause_command")),
    GlobalFlag("pause-image", .key(table: "crio.image", name: "pause_image")),
    GlobalFlag("pause-image-auth-file", .key(table: "crio.image", name: "pause_image_auth_file")),
    GlobalFlag("global-auth-file", .key(table: "crio.image", name: "global_auth_file")),
    GlobalFlag("signature-policy", .key(table: "crio.image", name: "signature_policy")),
    GlobalFlag("insecure-registry", .key(table: "crio.image", name: "insecure_registries")),
    GlobalFlag("default-transport", .key(table: "crio.image", name: "default_transport")),
    GlobalFlag("image-volumes", .key(table: "crio.image", name: "image_volumes")),
    GlobalFlag("big-files-temporary-dir", .key(table: "crio.image", name: "big_files_temporary_dir")),
    GlobalFlag("registries-conf", .key(table: "crio.image", name: "registries_conf")),
    GlobalFlag("registries-conf-dir", .key(table: "crio.image", name: "registries_conf_dir")),
  ]

  private static let storage: [GlobalFlag] = [
    GlobalFlag("root", short: "r", .key(table: "crio", name: "root")),
    GlobalFlag("runroot", .key(table: "crio", name: "runroot")),
    GlobalFlag("storage-driver", short: "s", .key(table: "crio", name: "storage_driver")),
    GlobalFlag("storage-opt", .key(table: "crio", name: "storage_option")),
  ]

  private static let runtime: [GlobalFlag] = [
    // CRI-O's deprecated keys, which set the monitor of every "oci" handler.
    GlobalFlag("conmon", .key(table: "crio.runtime", name: "conmon")),
    GlobalFlag("conmon-cgroup", .key(table: "crio.runtime", name: "conmon_cgroup")),
    GlobalFlag("conmon-env", .key(table: "crio.runtime", name: "conmon_env")),
    GlobalFlag("runtime-path", .defaultHandler(name: "runtime_path")),
    GlobalFlag("default-runtime", .key(table: "crio.runtime", name: "default_runtime")),
    GlobalFlag("runtimes", .handlers, help: "Runtime handlers name:path:root[:type[:privileged_without_host_devices[:runtime_config_path]]] ([crio.runtime.runtimes.<name>]). Repeatable or comma-separated."),
    GlobalFlag("seccomp-profile", .key(table: "crio.runtime", name: "seccomp_profile")),
    GlobalFlag("seccomp-use-default-when-empty", .key(table: "crio.runtime", name: "seccomp_use_default_when_empty")),
    GlobalFlag("apparmor-profile", .key(table: "crio.runtime", name: "apparmor_profile")),
    GlobalFlag("selinux", .key(table: "crio.runtime", name: "selinux")),
    GlobalFlag("cgroup-manager", .key(table: "crio.runtime", name: "cgroup_manager")),
    GlobalFlag("hooks-dir", .key(table: "crio.runtime", name: "hooks_dir")),
    GlobalFlag("default-mounts-file", .key(table: "crio.runtime", name: "default_mounts_file")),
    GlobalFlag("default-capabilities", .key(table: "crio.runtime", name: "default_capabilities")),
    GlobalFlag("add-inheritable-capabilities", .key(table: "crio.runtime", name: "add_inheritable_capabilities")),
    GlobalFlag("default-sysctls", .key(table: "crio.runtime", name: "default_sysctls")),
    GlobalFlag("read-only", .key(table: "crio.runtime", name: "read_only")),
    GlobalFlag("bind-mount-prefix", .key(table: "crio.runtime", name: "bind_mount_prefix")),
    GlobalFlag("uid-mappings", .key(table: "crio.runtime", name: "uid_mappings")),
    GlobalFlag("gid-mappings", .key(table: "crio.runtime", name: "gid_mappings")),
    GlobalFlag("minimum-mappable-uid", .key(table: "crio.runtime", name: "minimum_mappable_uid")),
    GlobalFlag("minimum-mappable-gid", .key(table: "crio.runtime", name: "minimum_mappable_gid")),
    GlobalFlag("allowed-devices", .key(table: "crio.runtime", name: "allowed_devices")),
    GlobalFlag("additional-devices", .key(table: "crio.runtime", name: "additional_devices")),
    GlobalFlag("device-ownership-from-security-context", .key(table: "crio.runtime", name: "device_ownership_from_security_context")),
    GlobalFlag("default-env", .key(table: "crio.runtime", name: "default_env")),
    GlobalFlag("container-attach-socket-dir", .key(table: "crio.runtime", name: "container_attach_socket_dir")),
    GlobalFlag("container-exits-dir", .key(table: "crio.runtime", name: "container_exits_dir")),
    GlobalFlag("ctr-stop-timeout", .key(table: "crio.runtime", name: "ctr_stop_timeout")),
    GlobalFlag("drop-infra-ctr", .key(table: "crio.runtime", name: "drop_infra_ctr")),
    GlobalFlag("pinns-path", .key(table: "crio.runtime", name: "pinns_path")),
    GlobalFlag("namespaces-dir", .key(table: "crio.runtime", name: "namespaces_dir")),
    GlobalFlag("no-pivot", .key(table: "crio.runtime", name: "no_pivot")),
    GlobalFlag("infra-ctr-cpuset", .key(table: "crio.runtime", name: "infra_ctr_cpuset")),
    GlobalFlag("absent-mount-sources-to-reject", .key(table: "crio.runtime", name: "absent_mount_sources_to_reject")),
    GlobalFlag("enable-criu-support", .key(table: "crio.runtime", name: "enable_criu_support")),
    GlobalFlag("enable-pod-events", .key(table: "crio.runtime", name: "enable_pod_events")),
    GlobalFlag("pids-limit", .key(table: "crio.runtime", name: "pids_limit")),
    GlobalFlag("cdi-spec-dirs", .key(table: "crio.runtime", name: "cdi_spec_dirs")),
    GlobalFlag("default-ulimits", .key(table: "crio.runtime", name: "default_ulimits")),
  ]

  private static let network: [GlobalFlag] = [
    GlobalFlag("cni-default-network", .key(table: "crio.network", name: "cni_default_network")),
    GlobalFlag("cni-config-dir", .key(table: "crio.network", name: "network_dir")),
    GlobalFlag("cni-plugin-dir", .key(table: "crio.network", name: "plugin_dirs")),
  ]

  private static let metrics: [GlobalFlag] = [
    GlobalFlag("enable-metrics", .key(table: "crio.metrics", name: "enable_metrics")),
    GlobalFlag("metrics-host", .key(table: "crio.metrics", name: "metrics_host")),
    GlobalFlag("metrics-port", .key(table: "crio.metrics", name: "metrics_port")),
    GlobalFlag("metrics-socket", .key(table: "crio.metrics", name: "metrics_socket")),
    GlobalFlag("metrics-cert", .key(table: "crio.metrics", name: "metrics_cert")),
    GlobalFlag("metrics-key", .key(table: "crio.metrics", name: "metrics_key")),
    GlobalFlag("metrics-collectors", .key(table: "crio.metrics", name: "metrics_collectors")),
    GlobalFlag("stats-collection-period", .key(table: "crio.stats", name: "stats_collection_period")),
  ]

  private static let state: [GlobalFlag] = [
    GlobalFlag("version-file", .key(table: "crio", name: "version_file")),
    GlobalFlag("version-file-persist", .key(table: "crio", name: "version_file_persist")),
    GlobalFlag("internal-wipe", .key(table: "crio", name: "internal_wipe")),
    GlobalFlag("clean-shutdown-file", .key(table: "crio", name: "clean_shutdown_file")),
  ]

  /// CRI-O flags whose keys this daemon does not have.
  private static let refusedFlags: [GlobalFlag] = [
    GlobalFlag("log", .refused("the daemon logs to stderr (the journal under systemd), not to a file of its own")),
    GlobalFlag("log-format", .refused("the daemon writes logrus' text format only")),
    GlobalFlag("separate-pull-cgroup", .refused("pulls run in the daemon's cgroup")),
    GlobalFlag("registry", .refused("search registries come from registries.conf (unqualified-search-registries)")),
    GlobalFlag("decryption-keys-path", .refused("encrypted images are not supported")),
    GlobalFlag("blockio-config-file", .refused("block I/O classes are not supported")),
    GlobalFlag("irqbalance-config-file", .refused("IRQ balancing is not supported")),
    GlobalFlag("rdt-config-file", .refused("RDT classes are not supported")),
    GlobalFlag("profile", .refused("Go's pprof endpoint has no counterpart here")),
    GlobalFlag("profile-cpu", .refused("Go's pprof profiles have no counterpart here")),
    GlobalFlag("profile-mem", .refused("Go's pprof profiles have no counterpart here")),
    GlobalFlag("profile-port", .refused("Go's pprof endpoint has no counterpart here")),
    GlobalFlag("enable-profile-unix-socket", .refused("Go's pprof endpoint has no counterpart here")),
    GlobalFlag("enable-tracing", .refused("OpenTelemetry tracing is not supported")),
    GlobalFlag("tracing-endpoint", .refused("OpenTelemetry tracing is not supported")),
    GlobalFlag("tracing-sampling-rate-per-million", .refused("OpenTelemetry tracing is not supported")),
    GlobalFlag("enable-nri", .refused("NRI plugins are not supported")),
    GlobalFlag("nri-listen", .refused("NRI plugins are not supported")),
    GlobalFlag("nri-plugin-dir", .refused("NRI plugins are not supported")),
    GlobalFlag("nri-plugin-config-dir", .refused("NRI plugins are not supported")),
    GlobalFlag("nri-disable-connections", .refused("NRI plugins are not supported")),
    GlobalFlag("nri-plugin-registration-timeout", .refused("NRI plugins are not supported")),
    GlobalFlag("nri-plugin-request-timeout", .refused("NRI plugins are not supported")),
    GlobalFlag("address", .refused("CRI-O's hidden publish address has no use here")),
  ]
}
