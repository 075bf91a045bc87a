import Foundation
import Testing

@testable import Config

/// One bad document, the key the error must name and a piece of the message.
struct BadValue: Sendable, CustomTestStringConvertible {
  let toml: String
  let key: String
  let message: String

  init(_ toml: String, _ key: String, _ message: String) {
    self.toml = toml
    self.key = key
    self.message = message
  }

  var testDescription: String { key }
}

@Suite struct ErrorTests {
  let loader = ConfigLoader(systemdIsRunning: true)
  let file = "/etc/crio/crio.conf.d/10-x.conf"

  static let badValues: [BadValue] = [
    // Wrong TOML types.
    BadValue("[crio]\nroot = 5", "[crio] root", "expected a string, got integer 5"),
    BadValue("[crio.api]\ngrpc_max_send_msg_size = \"big\"", "[crio.api] grpc_max_send_msg_size", "expected an integer, got string \"big\""),
    BadValue("[crio.runtime]\nctr_stop_timeout = 1.5", "[crio.runtime] ctr_stop_timeout", "expected an integer, got float 1.5"),
    BadValue("[crio]\ninternal_wipe = \"yes\"", "[crio] internal_wipe", "expected a boolean, got string \"yes\""),
    BadValue("[crio.runtime]\ndefault_env = \"A=b\"", "[crio.runtime] default_env", "expected an array of strings, got string \"A=b\""),
    BadValue("[crio.runtime]\nhooks_dir = [\"/a\", 5]", "[crio.runtime] hooks_dir", "expected an array of strings, got an array containing integer 5"),
    BadValue("[crio.api.listen]\nx = 1", "[crio.api] listen", "expected a string, got table"),
    BadValue("[crio]\napi = 5", "[crio] api", "expected a table, got integer 5"),
    BadValue("[crio.runtime]\nruntimes = [\"runc\"]", "[crio.runtime] runtimes", "expected a table of runtime handlers, got array"),
    BadValue("[crio.runtime.runtimes]\nrunc = \"/usr/bin/runc\"", "[crio.runtime.runtimes] runc", "expected a table describing runtime handler \"runc\""),
    // Invalid values.
    BadValue("[crio.runtime]\ncgroup_manager = \"foo\"", "[crio.runtime] cgroup_manager", "expected \"cgroupfs\" or \"systemd\", got \"foo\""),
    BadValue("[crio.runtime]\nlog_level = \"verbose\"", "[crio.runtime] log_level", "expected \"trace\", \"debug\", \"info\", \"warn\", \"error\", \"fatal\" or \"panic\", got \"verbose\""),
    BadValue("[crio]\nroot = \"var/lib/crio\"", "[crio] root", "expected an absolute path, got \"var/lib/crio\""),
    BadValue("[crio.api]\nlisten = \"crio.sock\"", "[crio.api] listen", "expected an absolute path"),
    BadValue("[crio.runtime]\ncontainer_exits_dir = \"\"", "[crio.runtime] container_exits_dir", "expected an absolute path, got \"\""),
    BadValue("[crio.api]\nstream_idle_timeout = \"5 minutes\"", "[crio.api] stream_idle_timeout", "expected a Go duration"),
    BadValue("[crio.image]\npull_progress_timeout = \"10\"", "[crio.image] pull_progress_timeout", "expected a Go duration"),
    BadValue("[crio.image]\npull_progress_timeout = \"-1s\"", "[crio.image] pull_progress_timeout", "expected a non-negative Go duration"),
    BadValue("[crio.runtime]\ndefault_capabilities = [\"CHOWN\", \"NET_RAWR\"]", "[crio.runtime] default_capabilities", "got \"NET_RAWR\""),
    BadValue("[crio.runtime]\nlog_size_max = 100", "[crio.runtime] log_size_max", "at least 8192 bytes, got 100"),
    BadValue("[crio.runtime]\nlog_size_max = 0", "[crio.runtime] log_size_max", "got 0"),
    BadValue("[crio.api]\nstream_port = \"70000\"", "[crio.api] stream_port", "expected a port number from \"0\" to \"65535\", got \"70000\""),
    BadValue("[crio.api]\nstream_port = \"http\"", "[crio.api] stream_port", "got \"http\""),
    BadValue("[crio.api]\nstream_port = 10010", "[crio.api] stream_port", "expected a string, got integer 10010"),
    BadValue("[crio.metrics]\nmetrics_port = 65536", "[crio.metrics] metrics_port", "expected a port number from 0 to 65535, got 65536"),
    BadValue("[crio.metrics]\nmetrics_port = -1", "[crio.metrics] metrics_port", "got -1"),
    BadValue("[crio.api]\ngrpc_max_recv_msg_size = 0", "[crio.api] grpc_max_recv_msg_size", "expected an integer >= 1, got 0"),
    BadValue("[crio.runtime]\nctr_stop_timeout = -5", "[crio.runtime] ctr_stop_timeout", "expected an integer >= 0, got -5"),
    BadValue("[crio.stats]\nstats_collection_period = -1", "[crio.stats] stats_collection_period", "got -1"),
    BadValue("[crio.image]\nimage_volumes = \"copy\"", "[crio.image] image_volumes", "expected \"mkdir\", \"bind\" or \"ignore\", got \"copy\""),
    BadValue("[crio.image]\nmax_parallel_downloads = 0", "[crio.image] max_parallel_downloads", "got 0"),
    BadValue("[crio.runtime]\ndefault_env = [\"NOEQUALS\"]", "[crio.runtime] default_env", "expected \"KEY=value\", got \"NOEQUALS\""),
    BadValue("[crio.runtime]\ndefault_env = [\"=value\"]", "[crio.runtime] default_env", "expected \"KEY=value\""),
    BadValue("[crio.runtime]\ndefault_env = [\"A=1\\nB=2\"]", "[crio.runtime] default_env", "without NUL bytes or line breaks, got \"A=1\\nB=2\""),
    BadValue("[crio.runtime]\ndefault_sysctls = [\"net.ipv4.ip_forward\"]", "[crio.runtime] default_sysctls", "expected \"key=value\""),
    BadValue("[crio.runtime]\ndefault_sysctls = [\"../../etc/x=1\"]", "[crio.runtime] default_sysctls", "expected \"key=value\""),
    BadValue("[crio.runtime]\ndefault_sysctls = [\"kernel.x=1\\rkernel.y=2\"]", "[crio.runtime] default_sysctls", "without NUL bytes or line breaks"),
    BadValue("[crio.runtime]\nadditional_devices = [\"/dev/sda:/dev/xvda:rwx\"]", "[crio.runtime] additional_devices", "got \"/dev/sda:/dev/xvda:rwx\""),
    BadValue("[crio.runtime]\nallowed_devices = [\"dev/fuse\"]", "[crio.runtime] allowed_devices", "expected an absolute path, got \"dev/fuse\""),
    BadValue("[crio.runtime]\nlog_filter = \"(unclosed\"", "[crio.runtime] log_filter", "expected a regular expression"),
    BadValue("[crio.runtime]\ninfra_ctr_cpuset = \"3-1\"", "[crio.runtime] infra_ctr_cpuset", "expected a cpuset list"),
    BadValue("[crio.runtime]\nuid_mappings = \"0:1000\"", "[crio.runtime] uid_mappings", "expected \"containerID:hostID:size\""),
    BadValue("[crio.runtime]\ndefault_runtime = \"\"", "[crio.runtime] default_runtime", "expected a runtime handler name"),
    BadValue("[crio.runtime.runtimes.runc]\nruntime_type = \"wasm\"", "[crio.runtime.runtimes.runc] runtime_type", "expected \"oci\", \"vm\" or \"pod\", got \"wasm\""),
    BadValue("[crio.runtime.runtimes.kata]\nruntime_root = \"run/kata\"", "[crio.runtime.runtimes.kata] runtime_root", "expected an absolute path"),
    BadValue("[crio.runtime.runtimes.kata]\nmonitor_env = [\"PATH\"]", "[crio.runtime.runtimes.kata] monitor_env", "expected \"KEY=value\""),
    BadValue("[crio.runtime.runtimes.\"bad name\"]\nruntime_type = \"oci\"", "[crio.runtime.runtimes.\"bad name\"]", "expected a runtime handler name"),
  ]

  @Test(arguments: badValues)
  func badValueNamesFileKeyAndExpectation(bad: BadValue) {
    let error = #expect(throws: ConfigError.self) {
      try loader.apply(toml: bad.toml, file: file, to: CrioConfig())
    }
    #expect(error?.file == file)
    #expect(error?.key == bad.key)
    #expect(error?.line == nil)
    #expect(error?.description.hasPrefix("\(file): \(bad.key): ") == true)
    #expect(error?.message.contains(bad.message) == true, "message was: \(error?.message ?? "none")")
  }

  @Test func descriptionIsOneActionableLine() {
    let error = #expect(throws: ConfigError.self) {
      try loader.apply(toml: "[crio.runtime]\ncgroup_manager = \"foo\"\n", file: file, to: CrioConfig())
    }
    #expect(
      error?.description
        == "/etc/crio/crio.conf.d/10-x.conf: [crio.runtime] cgroup_manager: expected \"cgroupfs\" or \"systemd\", got \"foo\""
    )
  }

  @Test(arguments: [
    ("[crio]\nroot = \n", 2),
    ("[crio]\nroot = \"/a\"\nroot = \"/b\"\n", 3),
    ("[crio\nroot = \"/a\"\n", 1),
    ("\n\n[crio.api]\nlisten = \"/unterminated\n", 4),
  ])
  func syntaxErrorNamesFileLineAndColumn(toml: String, line: Int) throws {
    let error = #expect(throws: ConfigError.self) {
      try loader.apply(toml: toml, file: file, to: CrioConfig())
    }
    let found = try #require(error)
    #expect(found.file == file)
    #expect(found.line == line)
    let column = try #require(found.column)
    #expect(column >= 1)
    #expect(found.description.hasPrefix("\(file):\(line):\(column): invalid TOML: "))
  }

  /// What toml++ must not be shown (TOMLSourceCheck), with where it is.
  /// The table names and the arrays were found by Fuzz/fuzz-config: toml++
  /// asserts that they cannot happen, and aborted the daemon, e.g. on
  /// `[\u{FFFD}]` (what a stray non-UTF-8 byte decodes to) or `[ } ]`.
  @Test(arguments: [
    ("[crio]\nroot = \"/a\\u0000b\"\n", 2, 11, "NUL"),
    ("[crio]\n# fine: \\u0000 in a comment\nstorage_option = [\"x\", \"\\U00000000\"]\n", 3, 25, "NUL"),
    ("[crio]\nroot = \"/a\u{0}\"\n", 2, 11, "NUL"),
    ("[\u{FFFD}.runtime]\n", 1, 2, "a table name must start with"),
    ("[crio]\nroot = \"/a\"\n  [[ é ]]\n", 3, 6, "a table name must start with"),
    ("[crio]\n[\n", 2, 2, "a table name must start with"),
    ("[[[crio]]]\n", 1, 3, "a table name must start with"),
    ("[crio]\nstorage_option = [ } ]\n", 2, 20, "'}' in an array"),
    ("[crio]\nstorage_option = [\"a\",\n  # c\n  }]\n", 4, 3, "'}' in an array"),
    ("[crio]\nx = { a = [ } ] }\n", 2, 13, "'}' in an array"),
    ("[crio]\nstorage_option = [ \u{2028} ]\n", 2, 20, "line breaks other than LF and CRLF"),
    ("[crio]\nstorage_option = [ \"a\", \u{85} ]\n", 2, 25, "line breaks other than LF and CRLF"),
  ])
  func sourcesTomlCannotTakeAreRejected(toml: String, line: Int, column: Int, message: String) {
    let error = #expect(throws: ConfigError.self) {
      try loader.apply(toml: toml, file: file, to: CrioConfig())
    }
    #expect(error?.line == line)
    #expect(error?.column == column)
    #expect(error?.message.contains(message) == true)
  }

  @Test func bracketsInsideValuesAreNotTableHeaders() throws {
    let (config, warnings) = try loader.apply(
      toml: "[crio.image]\nnote = \"\"\"\n[é]\"\"\"\ninsecure_registries = [\n  \"[é] }\", # [é] }\n]\n[ \"crio\" . api ]\n",
      file: file, to: CrioConfig())
    #expect(config.image.insecureRegistries == ["[é] }"])
    #expect(warnings.count == 1)  // the unknown key "note"
  }

  @Test func escapedBackslashBeforeU0000IsNotANul() throws {
    let (config, _) = try loader.apply(
      toml: "[crio]\nroot = '/lit\\u0000'\n[crio.network]\ncni_default_network = \"a\\\\u0000\"\n", file: file, to: CrioConfig())
    #expect(config.root == "/lit\\u0000")
    #expect(config.network.cniDefaultNetwork == "a\\u0000")
  }

  @Test func syntaxErrorInDropInNamesTheDropIn() throws {
    let dir = try TempDirectory()
    let main = try dir.write("crio.conf", "[crio]\nroot = \"/ok\"\n")
    let broken = try dir.write("crio.conf.d/50-broken.conf", "[crio.runtime]\nlog_level = debug\n")
    let error = #expect(throws: ConfigError.self) {
      try loader.load(configFile: main, configDir: dir.path("crio.conf.d"))
    }
    #expect(error?.file == broken)
    #expect(error?.line == 2)
  }

  @Test func invalidValueInDropInNamesTheDropIn() throws {
    let dir = try TempDirectory()
    let main = try dir.write("crio.conf", "")
    let bad = try dir.write("crio.conf.d/10-x.conf", "[crio.runtime]\ncgroup_manager = \"foo\"\n")
    let error = #expect(throws: ConfigError.self) {
      try loader.load(configFile: main, configDir: dir.path("crio.conf.d"))
    }
    #expect(error?.description == "\(bad): [crio.runtime] cgroup_manager: expected \"cgroupfs\" or \"systemd\", got \"foo\"")
  }

  @Test func nonUTF8FileIsRejected() throws {
    let dir = try TempDirectory()
    let path = dir.path("crio.conf")
    try Data([0x5B, 0x63, 0xFF, 0xFE, 0x5D]).write(to: URL(fileURLWithPath: path))
    let error = #expect(throws: ConfigError.self) {
      try loader.load(configFile: path, configDir: dir.path("none"))
    }
    #expect(error?.description == "\(path): expected UTF-8 text")
  }
}
