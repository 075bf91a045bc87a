import CRIClient
import Testing
import Support

/// `crio config` and `crio version` as an operator uses them.
@Suite struct CLITests {
  @Test func configOutputIsAcceptedBackUnchanged() async throws {
    let dir = try Files.makeTemporaryDirectory(prefix: "crio-c")
    defer { Files.removeTree(dir) }
    let first = try await crio([
      "config", "--config", "", "--config-dir", dir + "/none",
      "--listen", "/run/x/crio.sock", "--cgroup-manager", "cgroupfs", "--log-level", "debug",
      "--cni-plugin-dir", "/usr/lib/cni", "--cni-plugin-dir", "/opt/cni/bin",
    ])
    #expect(first.status == 0, "\(first.stderr)")
    #expect(first.stdout.contains("[crio.api]"))
    #expect(first.stdout.contains("cgroup_manager = \"cgroupfs\""))
    try Files.write(dir + "/crio.conf", first.stdout)
    let second = try await crio(["config", "--config", dir + "/crio.conf", "--config-dir", dir + "/none"])
    #expect(second.status == 0, "\(second.stderr)")
    #expect(second.stdout == first.stdout)
  }

  @Test func configNamesTheBadFlag() async throws {
    let result = try await crio(["config", "--config", "", "--cgroup-manager", "upstart"])
    #expect(result.status == 1)
    #expect(result.stderr.contains("--cgroup-manager"))
    #expect(result.stderr.contains("upstart"))
  }

  @Test func metricsFlagsSetTheMetricsTable() async throws {
    let result = try await crio([
      "config", "--config", "", "--config-dir", "", "--enable-metrics", "--metrics-port", "9137",
      "--metrics-socket", "/run/crio/metrics.sock", "--metrics-collectors", "operations_total,processes_defunct",
      "--metrics-collectors", "crio_containers_oom_total",
    ])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout.contains("enable_metrics = true"))
    #expect(result.stdout.contains("metrics_port = 9137"))
    #expect(result.stdout.contains("metrics_socket = \"/run/crio/metrics.sock\""))
    #expect(result.stdout.contains(#""operations_total","#) && result.stdout.contains(#""crio_containers_oom_total","#))
    #expect(!result.stdout.contains(#""operations_errors_total""#))
  }

  @Test func aMissingExplicitConfigFileIsAnError() async throws {
    let result = try await crio(["config", "--config", "/nonexistent/crio.conf"])
    #expect(result.status == 1)
    #expect(result.stderr.contains("/nonexistent/crio.conf"))
  }

  @Test func installCNIConfigWritesTheDefaultNetworkOnlyIntoAnEmptyDirectory() async throws {
    let dir = try Files.makeTemporaryDirectory(prefix: "crio-c")
    defer { Files.removeTree(dir) }
    let arguments = ["install-cni-config", "--config", "", "--config-dir", dir + "/none", "--cni-config-dir", dir + "/net.d"]
    let first = try await crio(arguments + ["--subnet", "10.99.0.0/16"])
    #expect(first.status == 0, "\(first.stderr)")
    let written = try Files.read(dir + "/net.d/10-crio-bridge.conflist")
    #expect(written.contains("\"10.99.0.0/16\"") && written.contains("\"portmap\"") && written.contains("\"cni0\""))
    // An operator's file (even a broken one) is left alone.
    try Files.write(dir + "/net.d/10-crio-bridge.conflist", "mine")
    let second = try await crio(arguments)
    #expect(second.status == 0)
    #expect(try Files.read(dir + "/net.d/10-crio-bridge.conflist") == "mine")
    #expect(second.stdout.contains("left as it is"))
  }

  @Test func versionPrintsBuildFacts() async throws {
    let text = try await crio(["version"])
    #expect(text.status == 0)
    #expect(text.stdout.contains("Version:"))
    #expect(text.stdout.contains("0.1.0"))
    #expect(text.stdout.contains("GitCommit:"))
    let json = try await crio(["version", "--json"])
    #expect(json.status == 0)
    for key in [#""version":"0.1.0""#, #""gitCommit":"#, #""buildDate":"#, #""compiler":"#] {
      #expect(json.stdout.contains(key), "missing \(key)")
    }
  }
}
