import OCI
import SpecInjection
import Support
import Testing

/// Hook files of hooks.d directories as containers/common reads and matches them.
@Suite struct HookTests {
  static func file(_ body: String) -> [UInt8] { Array(body.utf8) }

  static let valid = #"""
    {"version": "1.0.0", "hook": {"path": "/bin/true", "args": ["true", "x"], "env": ["A=1"], "timeout": 5},
     "when": {"always": true}, "stages": ["prestart", "poststop"]}
    """#

  @Test func aValidFileGivesItsHookConditionAndStages() throws {
    let hook = try HookFile(parsing: Self.file(Self.valid), exists: { _ in true })
    #expect(hook.hook == Spec.Hook(path: "/bin/true", args: ["true", "x"], env: ["A=1"], timeout: 5))
    #expect(hook.when == HookCondition(always: true))
    #expect(hook.stages == [.prestart, .poststop])
  }

  static let badFiles = [
    BadInput(text: "not json", reason: "version check"),
    BadInput(text: #"{"hook": {"path": "/bin/true"}, "stages": ["prestart"]}"#, reason: "hook: Expected to decode String"),
    BadInput(text: #"{"version": "2.0.0", "hook": {"path": "/bin/true"}, "stages": ["prestart"]}"#, reason: "unrecognized hook version \"2.0.0\""),
    BadInput(text: #"{"version": "0.1.0", "hook": "/bin/true", "stage": ["prestart"], "stages": ["prestart"]}"#, reason: "cannot set both 'stage' and 'stages'"),
    BadInput(text: #"{"hook": "/bin/true"}"#, reason: "missing required property: stages"),
    BadInput(text: #"{"version": "1.0.0", "hook": {"path": ""}, "when": {"always": true}, "stages": ["prestart"]}"#, reason: "missing required property: hook.path"),
    BadInput(text: #"{"version": "1.0.0", "when": {"always": true}, "stages": ["prestart"]}"#, reason: "missing required property: hook"),
    BadInput(text: #"{"version": "1.0.0", "hook": {"path": "/missing"}, "when": {"always": true}, "stages": ["prestart"]}"#, reason: "/missing does not exist"),
    BadInput(text: #"{"version": "1.0.0", "hook": {"path": "/bin/true"}, "when": {"always": true}}"#, reason: "missing required property: stages"),
    BadInput(text: #"{"version": "1.0.0", "hook": {"path": "/bin/true"}, "when": {"always": true}, "stages": ["prestop"]}"#, reason: "unknown stage \"prestop\""),
    BadInput(text: #"{"version": "1.0.0", "hook": {"path": "/bin/true"}, "when": {"commands": ["(unclosed"]}, "stages": ["prestart"]}"#, reason: "invalid command \"(unclosed\""),
    BadInput(text: #"{"version": "1.0.0", "hook": {"path": "/bin/true"}, "when": {"annotations": {"a": "[z-a]"}}, "stages": ["prestart"]}"#, reason: "invalid annotation value"),
  ]

  @Test(arguments: badFiles) func aBadFileIsRefusedWithItsReason(_ bad: BadInput) {
    do {
      _ = try HookFile(parsing: Self.file(bad.text), exists: { $0 != "/missing" })
      Issue.record("accepted: \(bad.text)")
    } catch {
      #expect(error.description.contains(bad.reason), "\(error)")
    }
  }

  @Test func aFileOfTheOlderFormatReadsAsItsCurrentEquivalent() throws {
    let text = #"{"hook": "/bin/true", "arguments": ["-x"], "stage": ["prestart"], "cmd": ["nginx$"], "annotation": ["^on$", "^yes$"], "hasbindmounts": true}"#
    let hook = try HookFile(parsing: Self.file(text), exists: { _ in true })
    #expect(hook.hook == Spec.Hook(path: "/bin/true", args: ["/bin/true", "-x"]))
    #expect(hook.when == HookCondition(annotations: [".*": "^on$|^yes$"], commands: ["nginx$"], hasBindMounts: true, anyCondition: true))
    #expect(hook.stages == [.prestart])
  }

  struct Case: Sendable, CustomStringConvertible {
    var description: String
    var when: HookCondition
    var args: [String] = ["/usr/bin/nginx", "-g"]
    var annotations: [String: String] = ["io.kubernetes.pod.name": "web", "example.com/trace": "on"]
    var bindMounts = false
    var matches: Bool
  }

  static let cases = [
    Case(description: "always", when: HookCondition(always: true), matches: true),
    Case(description: "always false never matches", when: HookCondition(always: false, commands: [".*"]), matches: false),
    Case(description: "no condition matches nothing", when: HookCondition(), matches: false),
    Case(description: "annotation key and value", when: HookCondition(annotations: ["^example\\.com/trace$": "^on$"]), matches: true),
    Case(description: "annotation value differs", when: HookCondition(annotations: ["^example\\.com/trace$": "^off$"]), matches: false),
    Case(description: "annotation patterns match anywhere", when: HookCondition(annotations: ["trace": "o"]), matches: true),
    Case(description: "every annotation pattern must match", when: HookCondition(annotations: ["trace": "on", "missing": ".*"]), matches: false),
    Case(description: "command of args[0]", when: HookCondition(commands: ["nginx$"]), matches: true),
    Case(description: "no command matches", when: HookCondition(commands: ["^/bin/sh$", "redis"]), matches: false),
    Case(description: "command ignores later args", when: HookCondition(commands: ["^-g$"]), matches: false),
    Case(description: "bind mounts wanted and present", when: HookCondition(hasBindMounts: true), bindMounts: true, matches: true),
    Case(description: "bind mounts wanted, none", when: HookCondition(hasBindMounts: true), matches: false),
    Case(description: "hasBindMounts false never matches", when: HookCondition(hasBindMounts: false), matches: false),
    Case(description: "all conditions hold", when: HookCondition(always: true, annotations: ["trace": "on"], commands: ["nginx"]), matches: true),
    Case(description: "one condition fails", when: HookCondition(always: true, annotations: ["trace": "off"], commands: ["nginx"]), matches: false),
    Case(description: "0.1.0: one condition suffices", when: HookCondition(always: false, annotations: ["trace": "on"], anyCondition: true), matches: true),
    Case(description: "0.1.0: annotation values of any key", when: HookCondition(annotations: [".*": "^nothing$|^web$"], anyCondition: true), matches: true),
    Case(description: "0.1.0: commands decide when nothing else holds", when: HookCondition(annotations: [".*": "^x$"], commands: ["nginx"], anyCondition: true), matches: true),
    Case(description: "0.1.0: nothing holds", when: HookCondition(commands: ["redis"], hasBindMounts: true, anyCondition: true), matches: false),
  ]

  @Test(arguments: cases) func conditionsMatchAsContainersCommonDoes(_ c: Case) throws {
    #expect(try c.when.matches(args: c.args, annotations: c.annotations, hasBindMounts: c.bindMounts) == c.matches)
  }

  @Test func commandsWithoutArgsIsAnError() {
    #expect(throws: HookFileError.self) { try HookCondition(commands: ["x"]).matches(args: [], annotations: [:], hasBindMounts: false) }
  }

  /// A hooks.d file whose hook is /bin/true.
  static func write(_ directory: String, _ name: String, stages: [String], when: String = #"{"always": true}"#, args: [String] = []) throws {
    let argsJSON = args.map { "\"\($0)\"" }.joined(separator: ",")
    let stagesJSON = stages.map { "\"\($0)\"" }.joined(separator: ",")
    try Files.write(directory + "/" + name, """
      {"version": "1.0.0", "hook": {"path": "/bin/true", "args": [\(argsJSON)]}, "when": \(when), "stages": [\(stagesJSON)]}
      """)
  }

  @Test func directoriesLaterOverrideEarlierAndHooksGoInFileNameOrder() throws {
    let root = try Files.makeTemporaryDirectory(prefix: "hooks-unit")
    defer { Files.removeTree(root) }
    try Files.makeDirectories(root + "/a", mode: 0o755)
    try Files.makeDirectories(root + "/b", mode: 0o755)
    try Self.write(root + "/a", "10-same.json", stages: ["prestart"], args: ["from-a"])
    try Self.write(root + "/b", "10-same.json", stages: ["prestart"], args: ["from-b"])
    try Self.write(root + "/a", "B-second.json", stages: ["prestart", "poststop"], args: ["second"])
    try Self.write(root + "/a", "a-first.json", stages: ["prestart"], args: ["first"])
    try Self.write(root + "/a", "never.json", stages: ["prestart"], when: #"{"commands": ["^redis$"]}"#, args: ["never"])
    try Files.write(root + "/a/readme.txt", "not a hook")
    let registry = try HookRegistry(directories: [root + "/a", root + "/missing", root + "/b"])
    var spec = Spec(process: Spec.Process(args: ["/bin/sh"]))
    try registry.current().catalog.apply(to: &spec, annotations: [:], hasBindMounts: false)
    #expect(spec.hooks?.prestart?.map { $0.args ?? [] } == [["from-b"], ["first"], ["second"]])
    #expect(spec.hooks?.poststop?.map { $0.args ?? [] } == [["second"]])
    #expect(spec.hooks?.poststart == nil)
  }

  @Test func aChangedDirectoryIsReadAgainAndBadFilesAreLeftOut() throws {
    let root = try Files.makeTemporaryDirectory(prefix: "hooks-unit")
    defer { Files.removeTree(root) }
    let registry = try HookRegistry(directories: [root])
    #expect(registry.current().reread == false)
    #expect(registry.current().catalog.hooks.isEmpty)
    try Self.write(root, "new.json", stages: ["poststart"])
    try Files.write(root + "/broken.json", "{")
    let (catalog, reread) = registry.current()
    #expect(reread)
    #expect(Array(catalog.hooks.keys) == ["new.json"])
    #expect(catalog.problems.count == 1)
    #expect(catalog.problems.first?.description.contains(root + "/broken.json") == true)
    #expect(registry.current().reread == false, "unchanged: the cached catalog")
  }

  @Test func aBadFileAtStartUpIsRefusedNamingIt() throws {
    let root = try Files.makeTemporaryDirectory(prefix: "hooks-unit")
    defer { Files.removeTree(root) }
    try Files.write(root + "/bad.json", #"{"version": "1.0.0", "hook": {"path": "/no/such/hook"}, "when": {"always": true}, "stages": ["prestart"]}"#)
    #expect(throws: HookError.invalidFile(root + "/bad.json", reason: "hook.path /no/such/hook does not exist")) {
      _ = try HookRegistry(directories: [root])
    }
  }
}
