import OCI
import SpecInjection
import Support
import Testing

/// CDI spec files (YAML and JSON), device names and the edits they make, as
/// the CDI library of CRI-O 1.26 reads and applies them.
@Suite struct CDITests {
  static let yaml = """
    cdiVersion: 0.5.0
    kind: example.com/test
    containerEdits:
      env: [SPEC_WIDE=1]
    devices:
      - name: null0
        containerEdits:
          env:
            - "NULL_DEVICE=0"
          deviceNodes:
            - path: /dev/cdi-null
              hostPath: /dev/null
              permissions: rw
              fileMode: 0666
          mounts:
            - hostPath: /etc/os-release
              containerPath: /opt/cdi/os-release
              options: [ro, bind]
          hooks:
            - hookName: createContainer
              path: /bin/true
              args: ["true", "--device"]
              timeout: 10
      # A number-like name is still a name.
      - name: 7
        containerEdits:
          env: [SEVEN=7]
    """

  static let json = """
    {"cdiVersion": "0.5.0", "kind": "example.com/test",
     "containerEdits": {"env": ["SPEC_WIDE=1"]},
     "devices": [
      {"name": "null0", "containerEdits": {
        "env": ["NULL_DEVICE=0"],
        "deviceNodes": [{"path": "/dev/cdi-null", "hostPath": "/dev/null", "permissions": "rw", "fileMode": 438}],
        "mounts": [{"hostPath": "/etc/os-release", "containerPath": "/opt/cdi/os-release", "options": ["ro", "bind"]}],
        "hooks": [{"hookName": "createContainer", "path": "/bin/true", "args": ["true", "--device"], "timeout": 10}]}},
      {"name": "7", "containerEdits": {"env": ["SEVEN=7"]}}]}
    """

  @Test func yamlAndJSONSpecsReadAlike() throws {
    let fromYAML = try CDISpec(parsing: Array(Self.yaml.utf8))
    let fromJSON = try CDISpec(parsing: Array(Self.json.utf8))
    #expect(fromYAML == fromJSON)
    #expect(fromYAML.vendor == "example.com" && fromYAML.deviceClass == "test")
    #expect(fromYAML.devices.map(\.name) == ["null0", "7"])
    let node = try #require(fromYAML.devices.first?.edits.deviceNodes.first)
    #expect(node.path == "/dev/cdi-null" && node.hostPath == "/dev/null" && node.permissions == "rw")
    #expect(node.fileMode == 0o666)
    #expect(fromYAML.devices.first?.edits.hooks == [
      CDIContainerEdits.Hook(hookName: "createContainer", path: "/bin/true", args: ["true", "--device"], timeout: 10)
    ])
  }

  static let badSpecs = [
    BadInput(text: "", reason: "no spec data"),
    BadInput(text: "cdiVersion: [", reason: "did not find expected node content"),
    BadInput(text: "cdiVersion: 9.9.9\nkind: a.com/b\ndevices: []", reason: "invalid cdiVersion \"9.9.9\""),
    BadInput(text: "cdiVersion: 0.5.0\nkind: nokind\ndevices: []", reason: "invalid kind \"nokind\""),
    BadInput(text: "cdiVersion: 0.5.0\nkind: a.com/b\nextra: 1", reason: "unknown field \"extra\""),
    BadInput(text: "cdiVersion: 0.5.0\nkind: a.com/b\nkind: a.com/c", reason: "appears twice"),
    BadInput(text: "cdiVersion: 0.5.0\nkind: a.com/b\ndevices:\n- name: x\n", reason: "device \"x\" has no container edits"),
    BadInput(text: "cdiVersion: 0.5.0\nkind: a.com/b\ndevices:\n- name: x\n  containerEdits: {env: [A=1]}\n- name: x\n  containerEdits: {env: [A=1]}", reason: "defined twice"),
    BadInput(text: "cdiVersion: 0.5.0\nkind: a.com/b\ndevices:\n- name: -x\n  containerEdits: {env: [A=1]}", reason: "must start with a letter or digit"),
    BadInput(text: "cdiVersion: 0.5.0\nkind: a.com/b\ncontainerEdits: {env: [\"=1\"]}", reason: "invalid environment variable"),
    BadInput(text: "cdiVersion: 0.5.0\nkind: a.com/b\ncontainerEdits: {hooks: [{hookName: prestop, path: /x}]}", reason: "invalid hook name \"prestop\""),
    BadInput(text: "cdiVersion: 0.5.0\nkind: a.com/b\ncontainerEdits: {deviceNodes: [{path: /dev/x, type: z}]}", reason: "invalid type \"z\""),
    BadInput(text: "cdiVersion: 0.5.0\nkind: a.com/b\ncontainerEdits: {deviceNodes: [{path: /dev/x, major: one}]}", reason: "major must be an integer"),
    BadInput(text: "cdiVersion: 0.5.0\nkind: a.com/b\ncontainerEdits: {mounts: [{hostPath: /x}]}", reason: "empty container path"),
  ]

  @Test(arguments: badSpecs) func aBadSpecIsRefusedWithItsReason(_ bad: BadInput) {
    do {
      _ = try CDISpec(parsing: Array(bad.text.utf8))
      Issue.record("accepted: \(bad.text)")
    } catch {
      #expect(error.description.contains(bad.reason), "\(error)")
    }
  }

  @Test func aliasLoopsAndAliasBombsAreRefused() throws {
    #expect(throws: YAMLError.self) { _ = try YAMLNode.parse(Array("a: &a [*a]".utf8)) }
    var bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
    for level in 1...8 {
      bomb += "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
    }
    #expect(throws: YAMLError("more than 100000 nodes")) { _ = try YAMLNode.parse(Array(bomb.utf8)) }
    #expect(try YAMLNode.parse(Array("a: &x [1]\nb: *x\n".utf8)) != nil, "an ordinary alias is read")
  }

  @Test(arguments: [
    ("nvidia.com/gpu=0", true), ("vendor.example.com/class_a=dev:1.x", true), ("a.com/b=all", true),
    ("/dev/null", false), ("nvidia.com/gpu", false), ("gpu=0", false), ("nvidia.com/=0", false),
    ("nvidia.com/gpu=", false), ("1vendor.com/gpu=0", false), ("vendor.com/gpu.x=0", false), ("vendor.com/gpu=a/b", false),
  ])
  func deviceNamesAreCheckedAsTheCDILibraryDoes(_ name: String, _ valid: Bool) {
    #expect(((try? CDIDeviceName(parsing: name)) != nil) == valid, "\(name)")
  }

  @Test func editsApplyToAnOCISpec() throws {
    let spec = try CDISpec(parsing: Array(Self.yaml.utf8))
    let edits = spec.containerEdits.appending(spec.devices[0].edits)
    var oci = Spec(
      process: Spec.Process(user: Spec.User(uid: 1000, gid: 0), env: ["PATH=/bin", "SPEC_WIDE=0"]),
      mounts: [
        Spec.Mount(destination: "/proc", type: "proc", source: "proc"),
        Spec.Mount(destination: "/opt/cdi/os-release", source: "/old"),
        Spec.Mount(destination: "/dev/pts", type: "devpts", source: "devpts"),
        Spec.Mount(destination: "/dev", type: "tmpfs", source: "tmpfs"),
      ],
      hooks: Spec.Hooks(createContainer: [Spec.Hook(path: "/first")]),
      linux: Spec.Linux(devices: [Spec.Device(type: "c", path: "/dev/cdi-null", major: 9, minor: 9)], resources: Spec.Resources(devices: [])))
    try edits.apply(to: &oci)
    #expect(oci.process?.env == ["PATH=/bin", "SPEC_WIDE=1", "NULL_DEVICE=0"])
    #expect(oci.linux?.devices == [Spec.Device(type: "c", path: "/dev/cdi-null", major: 1, minor: 3, fileMode: 0o666, uid: 1000)])
    #expect(oci.linux?.resources?.devices == [Spec.DeviceCgroup(allow: true, type: "c", major: 1, minor: 3, access: "rw")])
    #expect(oci.mounts?.map(\.destination) == ["/dev", "/proc", "/dev/pts", "/opt/cdi/os-release"])
    #expect(oci.mounts?.last == Spec.Mount(destination: "/opt/cdi/os-release", source: "/etc/os-release", options: ["ro", "bind"]))
    #expect(oci.hooks?.createContainer == [
      Spec.Hook(path: "/first"), Spec.Hook(path: "/bin/true", args: ["true", "--device"], timeout: 10),
    ])
  }

  @Test func aDeviceNodeOfTheWrongTypeOrMissingOnTheHostIsAnError() {
    #expect(throws: CDIError.self) {
      var oci = Spec()
      try CDIContainerEdits(deviceNodes: [.init(path: "/dev/x", hostPath: "/dev/null", type: "b")]).apply(to: &oci)
    }
    #expect(throws: CDIError.self) {
      var oci = Spec()
      try CDIContainerEdits(deviceNodes: [.init(path: "/dev/no-such-device")]).apply(to: &oci)
    }
  }

  @Test func theRegistryResolvesNamesWithLaterDirectoriesWinning() throws {
    let root = try Files.makeTemporaryDirectory(prefix: "cdi-unit")
    defer { Files.removeTree(root) }
    for directory in ["etc", "run"] { try Files.makeDirectories(root + "/" + directory, mode: 0o755) }
    try Files.write(root + "/etc/a.yaml", "cdiVersion: 0.5.0\nkind: example.com/net\ndevices:\n- name: one\n  containerEdits: {env: [WHO=etc]}\n- name: two\n  containerEdits: {env: [TWO=1]}\n")
    try Files.write(root + "/run/b.json", #"{"cdiVersion": "0.5.0", "kind": "example.com/net", "devices": [{"name": "one", "containerEdits": {"env": ["WHO=run"]}}]}"#)
    // Two specs of one directory defining a device: it is defined nowhere.
    try Files.write(root + "/etc/c.yaml", "cdiVersion: 0.5.0\nkind: example.com/dup\ndevices:\n- name: d\n  containerEdits: {env: [D=1]}\n")
    try Files.write(root + "/etc/d.yaml", "cdiVersion: 0.5.0\nkind: example.com/dup\ndevices:\n- name: d\n  containerEdits: {env: [D=2]}\n")
    try Files.write(root + "/etc/broken.yaml", "cdiVersion: [")
    try Files.write(root + "/etc/ignored.txt", "not a spec")
    let registry = CDIRegistry(directories: [root + "/etc", root + "/missing", root + "/run"])
    #expect(registry.current().deviceNames == ["example.com/net=one", "example.com/net=two"])
    let (edits, problems) = try registry.edits(for: ["example.com/net=one", "example.com/net=two"])
    #expect(edits.env == ["WHO=run", "TWO=1"])
    #expect(problems.contains { $0.contains("broken.yaml") })
    #expect(problems.contains { $0.contains("example.com/dup=d") })

    #expect(throws: CDIError.invalidName("example.com/net", reason: "expected vendor/class=name")) {
      _ = try registry.edits(for: ["example.com/net"])
    }
    do {
      _ = try registry.edits(for: ["example.com/net=one", "example.com/net=three", "example.com/dup=d"])
      Issue.record("resolved an unknown device")
    } catch {
      guard case .unresolvable(let names, _) = error else { throw error }
      #expect(names == ["example.com/net=three", "example.com/dup=d"])
    }

    // A new spec is seen at the next use.
    try Files.write(root + "/run/three.yaml", "cdiVersion: 0.5.0\nkind: example.com/net\ndevices:\n- name: three\n  containerEdits: {env: [THREE=3]}\n")
    #expect(try registry.edits(for: ["example.com/net=three"]).edits.env == ["THREE=3"])
  }
}
