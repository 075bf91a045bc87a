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

  /// crio(8) is the command line's own help and crio.conf(5) the schema's
  /// keys, so neither can drift; groff finds nothing to warn about.
  @Test func manualPagesCoverEveryCommandAndKey() async throws {
    let directory = try Files.makeTemporaryDirectory(prefix: "crio-man")
    defer { Files.removeTree(directory) }
    let command = try await crio(["man"])
    #expect(command.status == 0, "\(command.stderr)")
    #expect(command.stdout.hasPrefix(".TH CRIO 8 "))
    for name in ["config", "version", "wipe", "status containers", "install\\-cni\\-config", "completion", "man", "\\-\\-enable\\-metrics"] {
      #expect(command.stdout.contains(name), "\(name)")
    }
    let conf = try await crio(["man", "--section", "5"])
    #expect(conf.status == 0)
    let defaults = try await crio(["config", "--default"])
    let keys = defaults.stdout.split(separator: "\n").compactMap { line -> String? in
      guard !line.hasPrefix("#"), let equals = line.firstRange(of: " = ") else { return nil }
      return String(line[..<equals.lowerBound])
    }
    #expect(keys.count > 80)
    for key in Set(keys) {
      #expect(conf.stdout.contains("\\fB\(key.replacing("-", with: "\\-"))\\fR = "), "\(key)")
    }
    for (name, page) in [("crio.8", command.stdout), ("crio.conf.5", conf.stdout)] {
      try Files.write(directory + "/" + name, page)
      let checked = try await Processes.run("/usr/bin/groff", ["-ww", "-z", "-man", directory + "/" + name])
      #expect(checked.status == 0 && checked.stderr.isEmpty, "\(name): \(checked.stderr)")
    }
  }

  @Test func completionScriptsForEachShell() async throws {
    for (shell, marker) in [("bash", "-F _crio crio"), ("zsh", "#compdef crio"), ("fish", "complete -c 'crio'")] {
      let script = try await crio(["completion", shell])
      #expect(script.status == 0 && script.stdout.contains(marker), "\(shell)")
    }
    #expect(try await crio(["completion", "tcsh"]).status != 0)
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
