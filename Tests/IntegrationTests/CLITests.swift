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

  @Test func aMissingExplicitConfigFileIsAnError() async throws {
    let result = try await crio(["config", "--config", "/nonexistent/crio.conf"])
    #expect(result.status == 1)
    #expect(result.stderr.contains("/nonexistent/crio.conf"))
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
