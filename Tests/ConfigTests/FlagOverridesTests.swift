import Testing

@testable import Config

/// Flags go through the schema's conversion and checks, named by flag.
@Suite struct FlagOverridesTests {
  @Test func scalarsTakeTheLastValueAndListsAllOfThemSplitAtCommas() throws {
    var config = CrioConfig()
    try config.set(table: "crio.runtime", name: "ctr_stop_timeout", fromFlag: "--ctr-stop-timeout", values: ["5", "7"])
    try config.set(table: "crio.runtime", name: "default_env", fromFlag: "--default-env", values: ["A=1, B=2", "C=3"])
    try config.set(table: "crio.runtime", name: "selinux", fromFlag: "--selinux", values: ["T"])
    #expect(config.runtime.ctrStopTimeout == 7)
    #expect(config.runtime.defaultEnv == ["A=1", "B=2", "C=3"])
    #expect(config.runtime.selinux)
  }

  @Test func badValuesNameTheFlag() {
    var config = CrioConfig()
    #expect(throws: ConfigError(key: "--metrics-port", message: "expected an integer, got \"x\"")) {
      try config.set(table: "crio.metrics", name: "metrics_port", fromFlag: "--metrics-port", values: ["x"])
    }
    #expect(throws: ConfigError.self) {
      try config.set(table: "crio", name: "root", fromFlag: "--root", values: ["relative"])
    }
    #expect(throws: ConfigError.self) {
      try config.setHandlers(fromFlag: "--runtimes", values: ["kata:/x"])
    }
  }

  @Test func runtimesAndConmonFlagsDeclareHandlers() throws {
    var config = CrioConfig()
    try config.setHandlers(fromFlag: "--runtimes", values: ["kata:/x/kata:/x/root:oci:true"])
    try config.setDefaultHandler(name: "monitor_path", fromFlag: "--conmon", values: ["/x/conmon"])
    let kata = try #require(config.runtime.runtimes["kata"])
    #expect(kata.runtimePath == "/x/kata" && kata.runtimeRoot == "/x/root" && kata.privilegedWithoutHostDevices)
    #expect(config.runtime.runtimes[config.runtime.defaultRuntime]?.monitorPath == "/x/conmon")
    #expect(CrioConfig.flagShape(table: "crio", name: "internal_wipe") == .boolean)
    #expect(CrioConfig.flagShape(table: "crio", name: "no_such_key") == nil)
  }
}
