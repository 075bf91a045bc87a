import Foundation
import Testing

@testable import Config

@Suite struct LoaderTests {
  let loader = ConfigLoader(systemdIsRunning: true)

  @Test func defaultsFollowCRIO() {
    let config = CrioConfig()
    #expect(config.root == "/var/lib/crio")
    #expect(config.api.listen == "/var/run/crio/crio.sock")
    #expect(config.runtime.defaultRuntime == "runc")
    #expect(config.runtime.runtimes == ["runc": RuntimeHandler()])
    #expect(config.runtime.runtimes["runc"]?.runtimeRoot == "/run/runc")
    #expect(config.runtime.cgroupManager == .systemd)
    #expect(config.image.pauseImage == "registry.k8s.io/pause:3.10")
    // CRI-O 1.26's 25 collectors first, in its order, then those added here.
    #expect(config.metrics.metricsCollectors.count == 32)
    #expect(config.metrics.metricsCollectors.prefix(3) == ["operations", "operations_latency_microseconds_total", "operations_latency_microseconds"])
    #expect(config.metrics.metricsCollectors[24] == "containers_seccomp_notifier_count_total")
    #expect(throws: Never.self) { try config.validate() }
  }

  @Test func cgroupManagerDefaultFollowsInitSystem() {
    #expect(ConfigLoader(systemdIsRunning: true).defaults().runtime.cgroupManager == .systemd)
    #expect(ConfigLoader(systemdIsRunning: false).defaults().runtime.cgroupManager == .cgroupfs)
  }

  @Test func mainFileSetsKeysInEveryTable() throws {
    let dir = try TempDirectory()
    let main = try dir.write(
      "crio.conf",
      """
      # comment
      [crio]
      root = "/srv/crio"
      storage_option = ["overlay.mountopt=nodev"]
      internal_wipe = false

      [crio.api]
      listen = "/run/crio.sock"
      stream_port = "10010"
      grpc_max_recv_msg_size = 1024

      [crio.runtime]
      cgroup_manager = "cgroupfs"
      log_level = "debug"
      default_capabilities = ["cap_chown", "CAP_KILL", "net_raw"]
      log_size_max = 8192

      [crio.image]
      pause_image = "example.com/pause:1"
      pull_progress_timeout = "1m30s"

      [crio.network]
      plugin_dirs = ["/usr/libexec/cni"]

      [crio.metrics]
      enable_metrics = true
      metrics_port = 9537

      [crio.stats]
      collection_period = 10
      """)
    let (config, warnings) = try loader.load(configFile: main, configDir: dir.makeDirectory("crio.conf.d"))
    #expect(warnings.isEmpty)
    var expected = loader.defaults()
    expected.root = "/srv/crio"
    expected.storageOption = ["overlay.mountopt=nodev"]
    expected.internalWipe = false
    expected.api.listen = "/run/crio.sock"
    expected.api.streamPort = "10010"
    expected.api.grpcMaxRecvMsgSize = 1024
    expected.runtime.cgroupManager = .cgroupfs
    expected.runtime.logLevel = .debug
    expected.runtime.defaultCapabilities = ["cap_chown", "CAP_KILL", "net_raw"]
    expected.runtime.logSizeMax = 8192
    expected.image.pauseImage = "example.com/pause:1"
    expected.image.pullProgressTimeout = "1m30s"
    expected.network.pluginDirs = ["/usr/libexec/cni"]
    expected.metrics.enableMetrics = true
    expected.metrics.metricsPort = 9537
    expected.stats.collectionPeriod = 10
    #expect(config == expected)
    #expect(config.image.pullProgressTimeoutDuration == .seconds(90))
    #expect(config.api.streamPortNumber == 10010)
  }

  @Test func dropInsOverrideKeyByKeyInLexicalOrder() throws {
    let dir = try TempDirectory()
    let main = try dir.write(
      "crio.conf",
      """
      [crio]
      root = "/main/root"
      runroot = "/main/run"
      [crio.runtime]
      log_level = "debug"
      """)
    try dir.write("crio.conf.d/10-first.conf", "[crio.runtime]\nlog_level = \"error\"\n[crio]\nroot = \"/first/root\"\n")
    try dir.write("crio.conf.d/20-second.conf", "[crio.runtime]\nlog_level = \"fatal\"\n")
    // "9-" sorts after "20-": the order is lexical, not numeric.
    try dir.write("crio.conf.d/9-last.conf", "[crio.runtime]\nlog_level = \"trace\"\n")
    let (config, warnings) = try loader.load(configFile: main, configDir: dir.path("crio.conf.d"))
    #expect(warnings.isEmpty)
    #expect(config.runtime.logLevel == .trace)
    #expect(config.root == "/first/root")
    // Keys no drop-in sets keep the main file's value.
    #expect(config.runroot == "/main/run")
  }

  @Test func dropInAddsSecondRuntimeHandler() throws {
    let dir = try TempDirectory()
    let main = try dir.write("crio.conf", "[crio.runtime.runtimes.runc]\nruntime_path = \"/usr/sbin/runc\"\n")
    try dir.write(
      "crio.conf.d/10-kata.conf",
      """
      [crio.runtime]
      default_runtime = "kata"

      [crio.runtime.runtimes.kata]
      runtime_path = "/usr/bin/containerd-shim-kata-v2"
      runtime_type = "vm"
      privileged_without_host_devices = true
      """)
    try dir.write("crio.conf.d/20-runc.conf", "[crio.runtime.runtimes.runc]\nmonitor_cgroup = \"pod\"\n")
    let (config, _) = try loader.load(configFile: main, configDir: dir.path("crio.conf.d"))

    #expect(config.runtime.defaultRuntime == "kata")
    #expect(config.runtime.runtimes.keys.sorted() == ["kata", "runc"])
    var kata = RuntimeHandler(name: "kata")
    kata.runtimePath = "/usr/bin/containerd-shim-kata-v2"
    kata.runtimeType = "vm"
    kata.privilegedWithoutHostDevices = true
    #expect(config.runtime.runtimes["kata"] == kata)
    #expect(kata.runtimeRoot == "/run/kata")
    // The later drop-in changed one key of runc; the main file's runtime_path stays.
    var runc = RuntimeHandler()
    runc.runtimePath = "/usr/sbin/runc"
    runc.monitorCgroup = "pod"
    #expect(config.runtime.runtimes["runc"] == runc)
  }

  @Test func onlyRegularConfFilesInTheDirectoryAreRead() throws {
    let dir = try TempDirectory()
    let main = try dir.write("crio.conf", "")
    try dir.write("crio.conf.d/10-used.conf", "[crio]\nroot = \"/used\"\n")
    // Each of these would fail to load if it were read.
    try dir.write("crio.conf.d/README", "not toml = = =")
    try dir.write("crio.conf.d/20-old.conf.bak", "[crio]\nroot = 5\n")
    try dir.write("crio.conf.d/30-other.toml", "[crio]\nroot = \"relative\"\n")
    try dir.write("crio.conf.d/40-dir.conf/inner.conf", "[crio]\nroot = 5\n")
    let (config, warnings) = try loader.load(configFile: main, configDir: dir.path("crio.conf.d"))
    #expect(config.root == "/used")
    #expect(warnings.isEmpty)
  }

  @Test func missingDirectoryIsFineButNamedOneWarns() throws {
    let dir = try TempDirectory()
    let main = try dir.write("crio.conf", "[crio]\nroot = \"/r\"\n")
    let missing = dir.path("nope.d")
    let (config, warnings) = try loader.load(configFile: main, configDir: missing)
    #expect(config.root == "/r")
    #expect(warnings == ["\(missing): config directory does not exist, no drop-in files loaded"])
  }

  @Test func missingExplicitConfigFileFails() throws {
    let dir = try TempDirectory()
    let missing = dir.path("absent.conf")
    let error = #expect(throws: ConfigError.self) {
      try loader.load(configFile: missing, configDir: dir.path("crio.conf.d"))
    }
    #expect(error?.file == missing)
    #expect(error?.description == "\(missing): config file does not exist")
  }

  @Test func directoryGivenAsConfigFileFails() throws {
    let dir = try TempDirectory()
    let error = #expect(throws: ConfigError.self) {
      try loader.load(configFile: dir.path, configDir: dir.path("crio.conf.d"))
    }
    #expect(error?.description.contains(dir.path) == true)
  }

  @Test func unknownKeysAndTablesWarnWithFileAndKey() throws {
    let dir = try TempDirectory()
    let main = try dir.write(
      "crio.conf",
      """
      top_level = 1
      [crio]
      rooot = "/typo"
      [crio.runtime]
      log_level = "info"
      [crio.runtime.runtimes.runc]
      platform_runtime_paths = { "linux/arm64" = "/usr/bin/runc-arm64" }
      [other]
      x = 1
      """)
    let (config, warnings) = try loader.load(configFile: main, configDir: dir.path("none"))
    #expect(config.root == "/var/lib/crio")
    let expected: Set<String> = [
      "\(main): unknown key top_level, ignored",
      "\(main): unknown key [crio] rooot, ignored",
      "\(main): unknown table [crio.runtime.runtimes.runc.platform_runtime_paths], ignored",
      "\(main): unknown table [other], ignored",
      "\(dir.path("none")): config directory does not exist, no drop-in files loaded",
    ]
    #expect(Set(warnings) == expected)
    #expect(warnings.count == expected.count)
  }

  @Test func applyWarnsButKeepsGoing() throws {
    let (config, warnings) = try loader.apply(
      toml: "[crio.api]\nlisten = \"/x.sock\"\nfoo = true\n", file: "10-x.conf", to: CrioConfig())
    #expect(config.api.listen == "/x.sock")
    #expect(warnings == ["10-x.conf: unknown key [crio.api] foo, ignored"])
  }

  @Test(arguments: [
    ("warning", LogLevel.warn), ("warn", .warn), ("WARNING", .warn), ("Info", .info), ("trace", .trace), ("panic", .panic),
  ])
  func logLevelSpellings(text: String, level: LogLevel) throws {
    let (config, _) = try loader.apply(toml: "[crio.runtime]\nlog_level = \"\(text)\"\n", file: "f", to: CrioConfig())
    #expect(config.runtime.logLevel == level)
  }

  @Test func defaultRuntimeWithoutHandlerNamesTheFileThatSetIt() throws {
    let dir = try TempDirectory()
    let main = try dir.write("crio.conf", "")
    let dropIn = try dir.write("crio.conf.d/50-default.conf", "[crio.runtime]\ndefault_runtime = \"crun\"\n")
    let error = #expect(throws: ConfigError.self) {
      try loader.load(configFile: main, configDir: dir.path("crio.conf.d"))
    }
    #expect(error?.file == dropIn)
    #expect(error?.key == "[crio.runtime] default_runtime")
    #expect(
      error?.description
        == "\(dropIn): [crio.runtime] default_runtime: expected a runtime handler defined in [crio.runtime.runtimes] (\"runc\"), got \"crun\""
    )
  }

  @Test func handlerDefinedInALaterFileSatisfiesDefaultRuntime() throws {
    let dir = try TempDirectory()
    let main = try dir.write("crio.conf", "[crio.runtime]\ndefault_runtime = \"crun\"\n")
    try dir.write("crio.conf.d/10-crun.conf", "[crio.runtime.runtimes.crun]\n")
    let (config, _) = try loader.load(configFile: main, configDir: dir.path("crio.conf.d"))
    #expect(config.runtime.runtimes["crun"] == RuntimeHandler(name: "crun"))
  }

  @Test func monitorCgroupMustSuitTheCgroupManager() throws {
    let dir = try TempDirectory()
    let main = try dir.write("crio.conf", "[crio.runtime.runtimes.runc]\nmonitor_cgroup = \"system.slice\"\n")
    // Fine under systemd.
    #expect(throws: Never.self) { try loader.load(configFile: main, configDir: dir.path("d")) }
    try dir.write("d/10-cgroupfs.conf", "[crio.runtime]\ncgroup_manager = \"cgroupfs\"\n")
    let error = #expect(throws: ConfigError.self) { try loader.load(configFile: main, configDir: dir.path("d")) }
    #expect(error?.key == "[crio.runtime.runtimes.runc] monitor_cgroup")
    #expect(error?.file == main)
    #expect(error?.message.contains("cgroup_manager \"cgroupfs\"") == true)
  }

  @Test func resolvedMonitorCgroupDependsOnManager() {
    var handler = RuntimeHandler()
    #expect(handler.resolvedMonitorCgroup(for: .systemd) == "system.slice")
    #expect(handler.resolvedMonitorCgroup(for: .cgroupfs) == "pod")
    handler.monitorCgroup = "pod"
    #expect(handler.resolvedMonitorCgroup(for: .systemd) == "pod")
    #expect(handler.resolvedRuntimeRoot(handlerName: "runc") == "/run/runc")
    handler.runtimeRoot = ""
    #expect(handler.resolvedRuntimeRoot(handlerName: "crun") == "/run/crun")
  }

  @Test func packagedCRIODropInLoadsWithoutWarnings() throws {
    let dir = try TempDirectory()
    let main = try dir.write("crio.conf", "")
    try dir.write(
      "crio.conf.d/10-crio.conf",
      """
      [crio.image]
      signature_policy = "/etc/crio/policy.json"

      [crio.runtime]
      default_runtime = "crun"

      [crio.runtime.runtimes.crun]
      runtime_root = "/run/crun"
      monitor_path = "/usr/libexec/crio/conmon"
      allowed_annotations = [
          "io.containers.trace-syscall",
      ]

      [crio.runtime.runtimes.runc]
      runtime_root = "/run/runc"
      monitor_path = "/usr/libexec/crio/conmon"
      """)
    let (config, warnings) = try loader.load(configFile: main, configDir: dir.path("crio.conf.d"))
    #expect(warnings.isEmpty)
    #expect(config.runtime.defaultRuntime == "crun")
    #expect(config.runtime.runtimes["crun"]?.allowedAnnotations == ["io.containers.trace-syscall"])
    #expect(config.runtime.runtimes["runc"]?.monitorPath == "/usr/libexec/crio/conmon")
    #expect(config.image.signaturePolicy == "/etc/crio/policy.json")
  }

  @Test func errorDescriptionsLeaveOutUnknownParts() {
    #expect(ConfigError(key: "[crio] root", message: "m").description == "[crio] root: m")
    #expect(ConfigError(file: "f.conf", message: "m").description == "f.conf: m")
    #expect(ConfigError(line: 3, column: 4, message: "m").description == "line 3:4: m")
    #expect(ConfigError(file: "f", key: "[crio] k", message: "a\nb").description == "f: [crio] k: a b")
  }

  @Test func validateCatchesValuesSetAfterLoading() {
    var config = CrioConfig()
    config.runtime.logSizeMax = 100
    let error = #expect(throws: ConfigError.self) { try config.validate() }
    #expect(error?.file == nil)
    #expect(
      error?.description
        == "[crio.runtime] log_size_max: expected a negative number (no limit) or at least 8192 bytes, got 100")

    config = CrioConfig()
    config.runtime.defaultSysctls = ["net.ipv4.ip_forward=1\nkernel.x=1"]
    #expect(throws: ConfigError.self) { try config.validate() }

    config = CrioConfig()
    config.runtime.runtimes["bad name"] = RuntimeHandler()
    let nameError = #expect(throws: ConfigError.self) { try config.validate() }
    #expect(nameError?.key == "[crio.runtime.runtimes.\"bad name\"]")

    config = CrioConfig()
    config.runtime.runtimes["runc"]?.runtimeType = "wasm"
    let typeError = #expect(throws: ConfigError.self) { try config.validate() }
    #expect(typeError?.key == "[crio.runtime.runtimes.runc] runtime_type")
  }

  @Test func tlsNeedsCertificateAndKey() throws {
    let error = #expect(throws: ConfigError.self) {
      let (config, _) = try loader.apply(
        toml: "[crio.api]\nstream_enable_tls = true\nstream_tls_key = \"/k\"\n", file: "f", to: CrioConfig())
      try config.validate()
    }
    #expect(error?.key == "[crio.api] stream_tls_cert")
  }
}
