import CRIClient
import Support
import Testing

/// CRI-O's command line: every flag of CRI-O 1.26 that maps to a key this
/// daemon has sets that key (seen in `crio config`, the effective
/// configuration), global flags stand before or after the subcommand, and
/// the others are refused by name.
@Suite struct CLIFlagTests {
  struct FlagCase: Sendable, CustomTestStringConvertible {
    let arguments: [String]
    /// A line (or a list's first line) of `crio config` the flag makes.
    let expected: String
    init(_ arguments: [String], _ expected: String) {
      self.arguments = arguments
      self.expected = expected
    }
    var flag: String { String(arguments[0].prefix { $0 != "=" }) }
    var testDescription: String { arguments.joined(separator: " ") }
  }

  static let cases: [FlagCase] = [
    FlagCase(["--listen", "/x/crio.sock"], "listen = \"/x/crio.sock\""),
    FlagCase(["--stream-address", "10.0.0.1"], "stream_address = \"10.0.0.1\""),
    FlagCase(["--stream-port", "1234"], "stream_port = \"1234\""),
    FlagCase(["--stream-tls-ca", "/x/ca.pem"], "stream_tls_ca = \"/x/ca.pem\""),
    FlagCase(["--stream-enable-tls", "--stream-tls-cert", "/x/c.pem", "--stream-tls-key", "/x/k.pem"], "stream_enable_tls = true"),
    FlagCase(["--stream-tls-cert", "/x/cert.pem"], "stream_tls_cert = \"/x/cert.pem\""),
    FlagCase(["--stream-tls-key", "/x/key.pem"], "stream_tls_key = \"/x/key.pem\""),
    FlagCase(["--stream-idle-timeout", "5m"], "stream_idle_timeout = \"5m\""),
    FlagCase(["--grpc-max-recv-msg-size", "1000"], "grpc_max_recv_msg_size = 1000"),
    FlagCase(["--grpc-max-send-msg-size", "2000"], "grpc_max_send_msg_size = 2000"),
    FlagCase(["--log-level", "debug"], "log_level = \"debug\""),
    FlagCase(["--log-filter", "^abc"], "log_filter = \"^abc\""),
    FlagCase(["--log-dir", "/x/logs"], "log_dir = \"/x/logs\""),
    FlagCase(["--log-size-max", "10000"], "log_size_max = 10000"),
    FlagCase(["--log-journald"], "log_to_journald = true"),
    FlagCase(["--pause-command", "/pause2"], "pause_command = \"/pause2\""),
    FlagCase(["--pause-image", "example.com/pause:9"], "pause_image = \"example.com/pause:9\""),
    FlagCase(["--pause-image-auth-file", "/x/pauth.json"], "pause_image_auth_file = \"/x/pauth.json\""),
    FlagCase(["--global-auth-file", "/x/auth.json"], "global_auth_file = \"/x/auth.json\""),
    FlagCase(["--signature-policy", "/x/policy.json"], "signature_policy = \"/x/policy.json\""),
    FlagCase(["--insecure-registry", "a.example,b.example"], "insecure_registries = ["),
    // Accepted at its default only (any other transport is refused at load).
    FlagCase(["--default-transport", "docker://"], "default_transport = \"docker://\""),
    FlagCase(["--image-volumes", "bind"], "image_volumes = \"bind\""),
    FlagCase(["--big-files-temporary-dir", "/x/big"], "big_files_temporary_dir = \"/x/big\""),
    FlagCase(["--registries-conf", "/x/registries.conf"], "registries_conf = \"/x/registries.conf\""),
    FlagCase(["--registries-conf-dir", "/x/registries.d"], "registries_conf_dir = \"/x/registries.d\""),
    FlagCase(["--root", "/x/root"], "root = \"/x/root\""),
    FlagCase(["--runroot", "/x/run"], "runroot = \"/x/run\""),
    FlagCase(["--storage-driver", "overlay2"], "storage_driver = \"overlay2\""),
    FlagCase(["--storage-opt", "overlay.mountopt=nodev"], "storage_option = ["),
    FlagCase(["--conmon", "/x/conmon"], "monitor_path = \"/x/conmon\""),
    FlagCase(["--conmon-cgroup", "pod"], "monitor_cgroup = \"pod\""),
    FlagCase(["--conmon-env", "PATH=/x"], "monitor_env = ["),
    FlagCase(["--runtime-path", "/x/runc"], "runtime_path = \"/x/runc\""),
    FlagCase(["--default-runtime", "runc"], "default_runtime = \"runc\""),
    FlagCase(["--runtimes", "kata:/x/kata:/x/kata-root"], "[crio.runtime.runtimes.kata]"),
    FlagCase(["--seccomp-profile", "/x/seccomp.json"], "seccomp_profile = \"/x/seccomp.json\""),
    FlagCase(["--seccomp-use-default-when-empty=false"], "seccomp_use_default_when_empty = false"),
    FlagCase(["--apparmor-profile", "unconfined"], "apparmor_profile = \"unconfined\""),
    FlagCase(["--selinux=false"], "selinux = false"),
    FlagCase(["--cgroup-manager", "cgroupfs"], "cgroup_manager = \"cgroupfs\""),
    FlagCase(["--hooks-dir", "/x/hooks"], "hooks_dir = ["),
    FlagCase(["--default-mounts-file", "/x/mounts"], "default_mounts_file = \"/x/mounts\""),
    FlagCase(["--default-capabilities", "CHOWN,KILL"], "default_capabilities = ["),
    FlagCase(["--add-inheritable-capabilities"], "add_inheritable_capabilities = true"),
    FlagCase(["--default-sysctls", "kernel.msgmax=65536"], "default_sysctls = ["),
    FlagCase(["--read-only"], "read_only = true"),
    FlagCase(["--bind-mount-prefix", "/x/prefix"], "bind_mount_prefix = \"/x/prefix\""),
    FlagCase(["--uid-mappings", "0:100000:65536"], "uid_mappings = \"0:100000:65536\""),
    FlagCase(["--gid-mappings", "0:100000:65536"], "gid_mappings = \"0:100000:65536\""),
    FlagCase(["--minimum-mappable-uid", "1000"], "minimum_mappable_uid = 1000"),
    FlagCase(["--minimum-mappable-gid", "1000"], "minimum_mappable_gid = 1000"),
    FlagCase(["--allowed-devices", "/dev/fuse"], "allowed_devices = ["),
    FlagCase(["--additional-devices", "/dev/null:/dev/xnull:rwm"], "additional_devices = ["),
    FlagCase(["--device-ownership-from-security-context"], "device_ownership_from_security_context = true"),
    FlagCase(["--default-env", "A=b"], "default_env = ["),
    FlagCase(["--container-attach-socket-dir", "/x/attach"], "container_attach_socket_dir = \"/x/attach\""),
    FlagCase(["--container-exits-dir", "/x/exits"], "container_exits_dir = \"/x/exits\""),
    FlagCase(["--ctr-stop-timeout", "60"], "ctr_stop_timeout = 60"),
    FlagCase(["--drop-infra-ctr=false"], "drop_infra_ctr = false"),
    FlagCase(["--pinns-path", ""], "pinns_path = \"\""),
    FlagCase(["--namespaces-dir", "/x/ns"], "namespaces_dir = \"/x/ns\""),
    FlagCase(["--no-pivot"], "no_pivot = true"),
    FlagCase(["--infra-ctr-cpuset", "0"], "infra_ctr_cpuset = \"0\""),
    FlagCase(["--absent-mount-sources-to-reject", "/x/a"], "absent_mount_sources_to_reject = ["),
    FlagCase(["--enable-criu-support=false"], "enable_criu_support = false"),
    FlagCase(["--enable-pod-events"], "enable_pod_events = true"),
    FlagCase(["--pids-limit", "512"], "pids_limit = 512"),
    FlagCase(["--cdi-spec-dirs", "/x/cdi"], "cdi_spec_dirs = [\n\t\"/x/cdi\",\n]"),
    FlagCase(["--default-ulimits", "nofile=1024:2048,nproc=100"], "default_ulimits = [\n\t\"nofile=1024:2048\",\n\t\"nproc=100\",\n]"),
    FlagCase(["--cni-default-network", "podnet"], "cni_default_network = \"podnet\""),
    FlagCase(["--cni-config-dir", "/x/net.d"], "network_dir = \"/x/net.d\""),
    FlagCase(["--cni-plugin-dir", "/x/bin"], "plugin_dirs = ["),
    FlagCase(["--enable-metrics"], "enable_metrics = true"),
    FlagCase(["--metrics-host", "0.0.0.0"], "metrics_host = \"0.0.0.0\""),
    FlagCase(["--metrics-port", "9999"], "metrics_port = 9999"),
    FlagCase(["--metrics-socket", "/x/metrics.sock"], "metrics_socket = \"/x/metrics.sock\""),
    FlagCase(["--metrics-cert", "/x/m.pem"], "metrics_cert = \"/x/m.pem\""),
    FlagCase(["--metrics-key", "/x/m.key"], "metrics_key = \"/x/m.key\""),
    FlagCase(["--metrics-collectors", "operations_total"], "metrics_collectors = ["),
    FlagCase(["--stats-collection-period", "5"], "stats_collection_period = 5"),
    FlagCase(["--version-file", "/x/version"], "version_file = \"/x/version\""),
    FlagCase(["--version-file-persist", "/x/version-persist"], "version_file_persist = \"/x/version-persist\""),
    FlagCase(["--internal-wipe=false"], "internal_wipe = false"),
    FlagCase(["--clean-shutdown-file", "/x/clean"], "clean_shutdown_file = \"/x/clean\""),
  ]

  @Test(arguments: cases) func eachFlagSetsItsKey(_ flag: FlagCase) async throws {
    let result = try await crio(["config", "--config", "", "--config-dir", ""] + flag.arguments)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout.contains(flag.expected), "\(flag.arguments)")
  }

  /// Every flag `crio --help` lists is in the table above or refused.
  @Test func theTableCoversEveryFlagTheHelpLists() async throws {
    let help = try await crio(["--help"])
    let flags = help.stdout.split(separator: "\n").compactMap { line -> String? in
      guard let colon = line.firstRange(of: ": "), !line[colon.upperBound...].hasPrefix("Refused") else { return nil }
      let names = line[..<colon.lowerBound].split(separator: " ").map(String.init)
      return names.first { $0.hasPrefix("--") }.map { $0.replacing(",", with: "") }
    }
    #expect(flags.count > 70)
    let covered = Set(Self.cases.map(\.flag) + ["--config", "--config-dir"])
    #expect(Set(flags).subtracting(covered).isEmpty, "\(Set(flags).subtracting(covered).sorted())")
  }

  @Test func listFlagsAreRepeatableAndCommaSeparated() async throws {
    let result = try await crio([
      "config", "--config", "", "--config-dir", "", "--default-capabilities", "CHOWN, KILL", "--default-capabilities", "NET_RAW",
    ])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout.contains("default_capabilities = [\n\t\"CHOWN\",\n\t\"KILL\",\n\t\"NET_RAW\",\n]"), "\(result.stdout)")
  }

  @Test func globalFlagsWorkBeforeAndAfterTheSubcommand() async throws {
    for arguments in [
      ["--config", "", "-d", "", "--root", "/x/before", "config"],
      ["config", "--config", "", "--config-dir=", "-r", "/x/before"],
      ["-c=", "config", "--config-dir", "", "--root=/x/before"],
    ] {
      let result = try await crio(arguments)
      #expect(result.status == 0, "\(arguments): \(result.stderr)")
      #expect(result.stdout.contains("root = \"/x/before\""), "\(arguments)")
    }
    // A value that is a subcommand's name stays a value.
    let named = try await crio(["--config", "", "--config-dir", "", "--pause-command", "config", "config"])
    #expect(named.stdout.contains("pause_command = \"config\""), "\(named.stderr)")
    let version = try await crio(["--root", "/x", "--log-level", "debug", "version"])
    #expect(version.status == 0 && version.stdout.contains("Version:"), "\(version.stderr)")
    // After status, -s is status's socket, not --storage-driver.
    let status = try await crio(["status", "info", "-s", "/nonexistent/crio.sock"])
    #expect(status.status == 1 && status.stderr.contains("/nonexistent/crio.sock"), "\(status.stderr)")
  }

  @Test func theDaemonTakesGlobalFlagsBeforeItsNameOrWithoutIt() async throws {
    for arguments in [["--log-level", "debug", "daemon"], ["daemon", "--log-level=debug"], ["-l", "debug"]] {
      try await withDaemon(arguments: arguments) { daemon in
        #expect(daemon.log().contains("level=debug"), "\(arguments)")
      }
    }
  }

  @Test func unknownAndRefusedFlagsAreNamed() async throws {
    let unknown = try await crio(["--no-such-flag", "config"])
    #expect(unknown.status != 0 && unknown.stderr.contains("--no-such-flag"), "\(unknown.stderr)")
    let after = try await crio(["config", "--no-such-flag"])
    #expect(after.status != 0 && after.stderr.contains("--no-such-flag"), "\(after.stderr)")
    let refused = try await crio(["--enable-nri", "config"])
    #expect(refused.status != 0 && refused.stderr.contains("--enable-nri is not supported"), "\(refused.stderr)")
    // A flag setting a key this daemon accepts at its default only is refused as the key is.
    let criu = try await crio(["--enable-criu-support", "config", "--config", ""])
    #expect(criu.status == 1 && criu.stderr.contains("[crio.runtime] enable_criu_support: true cannot take effect"), "\(criu.stderr)")
    let missing = try await crio(["config", "--root"])
    #expect(missing.status != 0 && missing.stderr.contains("missing value for --root"), "\(missing.stderr)")
    let bad = try await crio(["config", "--config", "", "--log-size-max", "lots"])
    #expect(bad.status == 1 && bad.stderr.contains("--log-size-max") && bad.stderr.contains("lots"), "\(bad.stderr)")
  }
}
