import Testing

@testable import Config

/// A crio.conf written for CRI-O 1.26 loads here as it does there: every key it knows is
/// accepted at its default, the deprecated ones still act, and a value this daemon
/// cannot honour stops start-up naming the file, the key and why.
@Suite struct CRIOCompatibilityTests {
  let loader = ConfigLoader(systemdIsRunning: true)

  static var fixture: String {
    let here = #filePath
    return String(here[..<here.range(of: "/CRIOCompatibilityTests.swift")!.lowerBound]) + "/Fixtures/crio-1.26.4-keys.conf"
  }

  @Test func crio126sEveryKeyLoadsWithoutAWarning() throws {
    let (config, warnings) = try loader.load(configFile: Self.fixture, configDir: "")
    #expect(warnings.isEmpty, "\(warnings)")
    #expect(config.runtime.irqbalanceConfigFile == "/etc/sysconfig/irqbalance")
    #expect(config.nri.nriPluginRequestTimeout == "2s")
  }

  /// One non-default value for each key accepted at its default only.
  static let refused: [(table: String, line: String)] = [
    ("crio.runtime", #"decryption_keys_path = "/etc/keys""#),
    ("crio.runtime", #"blockio_config_file = "/etc/blockio.yaml""#),
    ("crio.runtime", #"irqbalance_config_file = "/etc/default/irqbalance""#),
    ("crio.runtime", #"rdt_config_file = "/etc/rdt.yaml""#),
    ("crio.runtime", #"separate_pull_cgroup = "pod""#),
    ("crio.runtime", #"shared_cpuset = "2-3""#),
    ("crio.runtime", #"pinns_path = "/usr/bin/pinns""#),
    ("crio.runtime", "enable_criu_support = true"),
    ("crio.image", #"default_transport = "docker-daemon:""#),
    ("crio.runtime.runtimes.runc", #"monitor_exec_cgroup = "system.slice""#),
    ("crio.tracing", "enable_tracing = true"),
    ("crio.tracing", #"tracing_endpoint = "10.0.0.1:4317""#),
    ("crio.tracing", "tracing_sampling_rate_per_million = 1000000"),
    ("crio.nri", "enable_nri = true"),
    ("crio.nri", #"nri_listen = "/run/nri.sock""#),
    ("crio.nri", #"nri_plugin_dir = "/srv/nri""#),
    ("crio.nri", #"nri_plugin_config_dir = "/srv/nri.d""#),
    ("crio.nri", "nri_disable_connections = true"),
    ("crio.nri", #"nri_plugin_registration_timeout = "9s""#),
    ("crio.nri", #"nri_plugin_request_timeout = "9s""#),
  ]

  @Test(arguments: refused) func aValueThatCannotTakeEffectStopsStartUp(table: String, line: String) throws {
    let dir = try TempDirectory()
    let dropIn = try dir.write("crio.conf.d/10-feature.conf", "[\(table)]\n\(line)\n")
    let key = String(line.prefix { $0 != " " })
    do {
      _ = try loader.load(configFile: "", configDir: dir.path("crio.conf.d"))
      Issue.record("\(line) was accepted")
    } catch {
      #expect(error.file == dropIn)
      #expect(error.key == "[\(table)] \(key)")
      #expect(error.message.contains("cannot take effect: "), "\(error)")
    }
  }

  @Test func aWorkloadStopsStartUp() throws {
    let dir = try TempDirectory()
    let file = try dir.write("crio.conf", """
      [crio.runtime.workloads.management]
      activation_annotation = "target.workload.openshift.io/management"
      """)
    #expect(throws: ConfigError(
      file: file, key: "[crio.runtime.workloads.management]",
      message: "workloads are not supported by this daemon (their annotations would be ignored); remove the table"
    )) { try loader.load(configFile: file, configDir: "") }
    // An empty workloads table asks for nothing.
    let empty = try dir.write("empty.conf", "[crio.runtime.workloads]\n")
    #expect(throws: Never.self) { try loader.load(configFile: empty, configDir: "") }
  }

  @Test func deprecatedConmonKeysSetEveryOCIHandlersMonitor() throws {
    let dir = try TempDirectory()
    let file = try dir.write("crio.conf", """
      [crio.runtime]
      conmon = "/opt/bin/conmon"
      conmon_cgroup = "pod"
      conmon_env = ["PATH=/opt/bin"]

      [crio.runtime.runtimes.kata]
      runtime_type = "vm"
      monitor_path = "/usr/bin/kata-monitor"

      [crio.runtime.runtimes.crun]
      monitor_path = "/usr/bin/conmon"
      """)
    let (config, warnings) = try loader.load(configFile: file, configDir: "")
    #expect(warnings.isEmpty)
    for name in ["runc", "crun"] {
      let handler = try #require(config.runtime.runtimes[name])
      #expect(handler.monitorPath == "/opt/bin/conmon")
      #expect(handler.monitorCgroup == "pod")
      #expect(handler.monitorEnv == ["PATH=/opt/bin"])
    }
    // As in CRI-O, only handlers conmon monitors.
    #expect(config.runtime.runtimes["kata"]?.monitorPath == "/usr/bin/kata-monitor")
    // Unset, they leave the handlers alone.
    let plain = try loader.load(configFile: "", configDir: "").config
    #expect(plain.runtime.runtimes["runc"] == RuntimeHandler())
  }

  @Test func storageOptionsAreHonouredOrRefused() throws {
    let options = try StorageOptions(parsing: ["overlay.mountopt=nodev,metacopy=on,nosuid", "overlay2.skip_mount_home=true"])
    #expect(options.mountFlags == ["nodev", "nosuid"])
    #expect(options.overlayOptions == ["metacopy=on"])
    for refused in ["overlay.size=10G", "overlay.mount_program=/usr/bin/fuse-overlayfs", "overlay.mountopt=lowerdir=/etc", "vfs.ignore_chown_errors=true"] {
      #expect(Check.storageOption(refused)?.contains("cannot take effect") == true, "\(refused)")
    }
    #expect(Check.storageDriver("") == nil && Check.storageDriver("overlay") == nil)
    #expect(Check.storageDriver("vfs")?.contains("overlay driver only") == true)
  }

  @Test func ctrStopTimeoutBelowItsFloorIsRaisedWithAWarning() throws {
    let dir = try TempDirectory()
    let file = try dir.write("crio.conf", "[crio.runtime]\nctr_stop_timeout = 10\n")
    let (config, warnings) = try loader.load(configFile: file, configDir: "")
    #expect(config.runtime.ctrStopTimeout == 30)
    #expect(warnings == ["\(file): [crio.runtime] ctr_stop_timeout 10 is below the lowest possible value; 30 is used"])
    let higher = try dir.write("higher.conf", "[crio.runtime]\nctr_stop_timeout = 45\n")
    #expect(try loader.load(configFile: higher, configDir: "").config.runtime.ctrStopTimeout == 45)
  }

  @Test(arguments: [
    ("nofile=1024:2048", "RLIMIT_NOFILE", UInt64(1024), UInt64(2048)),
    ("nproc=512", "RLIMIT_NPROC", 512, 512),
    ("core=0:-1", "RLIMIT_CORE", 0, UInt64.max),
    ("memlock=-1", "RLIMIT_MEMLOCK", UInt64.max, UInt64.max),
  ])
  func ulimitsParseAsDockerWrites(text: String, type: String, soft: UInt64, hard: UInt64) throws {
    let limit = try #require(Ulimit(parsing: text))
    #expect(limit.type == type)
    #expect(limit.soft == soft)
    #expect(limit.hard == hard)
  }

  @Test(arguments: ["nofile", "nofile=", "nofile=2:1", "nofile=-1:5", "files=1", "nofile=1:2:3", "nofile=-2", "NOFILE=1"])
  func malformedUlimitsAreRefused(text: String) {
    #expect(Ulimit(parsing: text) == nil)
    #expect(Check.ulimit(text) != nil)
  }
}
