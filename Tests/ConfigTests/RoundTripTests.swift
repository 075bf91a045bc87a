import Foundation
import Support
import Testing

@testable import Config

@Suite struct RoundTripTests {
  let loader = ConfigLoader(systemdIsRunning: true)

  /// A valid configuration in which every key differs from its default.
  static func everythingChanged() -> CrioConfig {
    var c = CrioConfig()
    c.root = "/srv/crio/root"
    c.runroot = "/run/crio-state"
    c.storageDriver = "overlay2"
    c.storageOption = ["overlay.mountopt=nodev,metacopy=on", "overlay.skip_mount_home=true"]
    c.logDir = "/var/log/pods-elsewhere"
    c.versionFile = "/run/crio/ver"
    c.versionFilePersist = "/var/lib/crio/ver"
    c.cleanShutdownFile = "/var/lib/crio/clean"
    c.internalWipe = false

    c.api.listen = "/run/crio/other.sock"
    c.api.streamAddress = "0.0.0.0"
    c.api.streamPort = "10010"
    c.api.streamEnableTLS = true
    c.api.streamTLSCert = "/etc/crio/tls.crt"
    c.api.streamTLSKey = "/etc/crio/tls.key"
    c.api.streamTLSCA = "/etc/crio/ca.crt"
    c.api.streamIdleTimeout = "4h"
    c.api.grpcMaxSendMsgSize = 16_777_216
    c.api.grpcMaxRecvMsgSize = 33_554_432

    c.runtime.defaultRuntime = "kata.v2"
    var runc = RuntimeHandler()
    runc.runtimePath = "/usr/sbin/runc"
    runc.runtimeType = "pod"
    runc.runtimeRoot = "/run/runc-alt"
    runc.monitorPath = "/usr/libexec/crio/conmon"
    runc.monitorCgroup = "pod"
    runc.monitorEnv = ["PATH=/bin", "LANG=C"]
    runc.allowedAnnotations = ["io.kubernetes.cri-o.Devices"]
    runc.privilegedWithoutHostDevices = true
    var kata = RuntimeHandler(name: "kata.v2")
    kata.runtimeType = "vm"
    c.runtime.runtimes = ["runc": runc, "kata.v2": kata]
    c.runtime.noPivot = true
    c.runtime.defaultUlimits = ["nofile=1024:2048", "core=-1"]
    // The deprecated keys, set as runc's own monitor settings so translating them changes nothing.
    c.runtime.conmon = runc.monitorPath
    c.runtime.conmonCgroup = runc.monitorCgroup
    c.runtime.conmonEnv = runc.monitorEnv
    c.runtime.pidsLimit = 4096
    c.runtime.defaultEnv = ["NO_PROXY=localhost", "EMPTY="]
    c.runtime.selinux = true
    c.runtime.seccompProfile = "/etc/crio/seccomp.json"
    c.runtime.seccompUseDefaultWhenEmpty = false
    c.runtime.apparmorProfile = "unconfined"
    c.runtime.cgroupManager = .cgroupfs
    c.runtime.defaultCapabilities = ["cap_net_raw", "SYS_CHROOT"]
    c.runtime.addInheritableCapabilities = true
    c.runtime.defaultSysctls = ["net.ipv4.ping_group_range=0 2147483647"]
    c.runtime.allowedDevices = ["/dev/kvm"]
    c.runtime.additionalDevices = ["/dev/sdc:/dev/xvdc:rwm", "/dev/null"]
    c.runtime.cdiSpecDirs = ["/etc/cdi", "/run/cdi-dynamic"]
    c.runtime.deviceOwnershipFromSecurityContext = true
    c.runtime.hooksDir = ["/etc/containers/oci/hooks.d", "/usr/share/containers/oci/hooks.d"]
    c.runtime.defaultMountsFile = "/etc/containers/mounts.conf"
    c.runtime.logSizeMax = 1_048_576
    c.runtime.logToJournald = true
    c.runtime.containerExitsDir = "/run/crio/exits2"
    c.runtime.containerAttachSocketDir = "/run/crio/attach"
    c.runtime.bindMountPrefix = "/host"
    c.runtime.readOnly = true
    c.runtime.logLevel = .warn
    c.runtime.logFilter = "^(Sandbox|Container).*"
    c.runtime.uidMappings = "0:100000:65536"
    c.runtime.gidMappings = "0:100000:65536,65536:200000:1"
    c.runtime.minimumMappableUID = 1000
    c.runtime.minimumMappableGID = 1000
    c.runtime.ctrStopTimeout = 60
    c.runtime.dropInfraCtr = false
    c.runtime.infraCtrCpuset = "0-1"
    c.runtime.namespacesDir = "/run/ns"
    c.runtime.absentMountSourcesToReject = ["/etc/hostname"]
    c.runtime.enablePodEvents = true
    c.runtime.timezone = "Europe/Berlin"

    c.image.globalAuthFile = "/var/lib/kubelet/config.json"
    c.image.pauseImage = "registry.example.com/pause:3.9"
    c.image.pauseImageAuthFile = "/etc/crio/pause-auth.json"
    c.image.pauseCommand = "/pause-alt"
    c.image.pinnedImages = ["registry.k8s.io/pause*"]
    c.image.signaturePolicy = "/etc/crio/policy.json"
    c.image.signaturePolicyDir = "/etc/crio/policies.d"
    c.image.insecureRegistries = ["localhost:5000"]
    c.image.imageVolumes = "ignore"
    c.image.bigFilesTemporaryDir = "/var/tmp/crio"
    c.image.autoReloadRegistries = true
    c.image.pullProgressTimeout = "1m30s"
    c.image.maxParallelDownloads = 6
    c.image.registriesConf = "/etc/crio/registries.conf"
    c.image.registriesConfDir = "/etc/crio/registries.conf.d"

    // A free-form string, to show quoting and escapes survive the round trip.
    c.network.cniDefaultNetwork = "cbr0 \"quoted\" \\ back\tslash é"
    c.network.networkDir = "/etc/kubernetes/cni/net.d"
    c.network.pluginDirs = ["/usr/libexec/cni"]

    c.metrics.enableMetrics = true
    c.metrics.metricsHost = "0.0.0.0"
    c.metrics.metricsPort = 9537
    c.metrics.metricsSocket = "/run/crio/metrics.sock"
    c.metrics.metricsCert = "/etc/crio/metrics.crt"
    c.metrics.metricsKey = "/etc/crio/metrics.key"
    c.metrics.metricsCollectors = ["operations_total"]

    c.stats.statsCollectionPeriod = 10
    c.stats.collectionPeriod = 15
    return c
  }

  @Test func fixtureReallyChangesEveryKey() throws {
    let changed = Self.everythingChanged()
    let defaults = CrioConfig()
    // Keys accepted at their defaults only cannot change in a valid configuration.
    for key in ConfigSchema.keys where key.unsupported == nil {
      #expect(key.get(changed) != key.get(defaults), "\(key.qualifiedName) still has its default")
    }
    let runc = try #require(changed.runtime.runtimes["runc"])
    for key in ConfigSchema.handlerKeys where key.unsupported == nil {
      #expect(key.get(runc) != key.get(RuntimeHandler()), "handler key \(key.name) still has its default")
    }
    #expect(throws: Never.self) { try changed.validate() }
  }

  @Test(arguments: [CrioConfig(), RoundTripTests.everythingChanged()])
  func renderedConfigLoadsBackUnchanged(config: CrioConfig) throws {
    let text = config.renderTOML()
    let (parsed, warnings) = try loader.apply(toml: text, file: "rendered.conf", to: CrioConfig())
    #expect(warnings.isEmpty)
    #expect(parsed == config)
    // Rendering is stable, so `crio config` output can be diffed.
    #expect(parsed.renderTOML() == text)
  }

  @Test func renderedFileLoadsThroughTheLoader() throws {
    let dir = try TempDirectory()
    let config = Self.everythingChanged()
    let main = try dir.write("crio.conf", config.renderTOML())
    let (loaded, warnings) = try loader.load(configFile: main, configDir: try dir.makeDirectory("crio.conf.d"))
    #expect(warnings.isEmpty)
    #expect(loaded == config)
  }

  @Test func everyKeyIsRenderedBelowItsComment() {
    let text = CrioConfig().renderTOML()
    for key in ConfigSchema.keys {
      #expect(text.contains("\n# \(key.renderedDoc)\n\(key.name) = "), "\(key.qualifiedName) missing or uncommented")
    }
    for key in ConfigSchema.handlerKeys {
      #expect(text.contains("\n# \(key.renderedDoc)\n\(key.name) = "), "handler key \(key.name) missing or uncommented")
    }
    #expect(!text.contains("\n\n\(ConfigSchema.keys[0].name) = "), "a key without its comment")
  }

  @Test func tablesAppearInCRIOOrder() throws {
    let text = Self.everythingChanged().renderTOML()
    let headers = text.split(separator: "\n").filter { $0.hasPrefix("[") }.map(String.init)
    #expect(
      headers == [
        "[crio]", "[crio.api]", "[crio.runtime]", "[crio.runtime.runtimes.\"kata.v2\"]",
        "[crio.runtime.runtimes.runc]", "[crio.image]", "[crio.network]", "[crio.metrics]", "[crio.tracing]", "[crio.nri]",
        "[crio.stats]",
      ])
  }

  @Test func defaultRenderingShowsCRIOValues() {
    let text = CrioConfig().renderTOML()
    #expect(text.contains("\ncgroup_manager = \"systemd\"\n"))
    #expect(text.contains("\nlog_size_max = -1\n"))
    #expect(text.contains("\nstorage_option = []\n"))
    #expect(text.contains("\nallowed_devices = [\n\t\"/dev/fuse\",\n\t\"/dev/net/tun\",\n]\n"))
    #expect(text.contains("\nstream_port = \"0\"\n"))
  }

  @Test func jsonIsFlatCompleteAndSorted() throws {
    let config = Self.everythingChanged()
    guard case .object(let members) = config.jsonValue() else {
      Issue.record("not an object")
      return
    }
    let object = Dictionary(uniqueKeysWithValues: members)
    #expect(object["crio.api.listen"] == .string("/run/crio/other.sock"))
    #expect(object["crio.runtime.log_size_max"] == .int(1_048_576))
    #expect(object["crio.runtime.selinux"] == .bool(true))
    #expect(object["crio.runtime.cgroup_manager"] == .string("cgroupfs"))
    #expect(object["crio.runtime.runtimes.kata.v2.runtime_type"] == .string("vm"))
    #expect(object["crio.network.plugin_dirs"] == .array([.string("/usr/libexec/cni")]))
    #expect(members.count == ConfigSchema.keys.count + 2 * ConfigSchema.handlerKeys.count)
    #expect(members.map(\.0) == members.map(\.0).sorted())

    // The text is JSON a standard parser reads back.
    let json = try #require(config.renderJSON().data(using: .utf8))
    let decoded = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
    #expect(decoded["crio.root"] as? String == "/srv/crio/root")
    #expect(decoded.count == members.count)
  }

}
