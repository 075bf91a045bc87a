#if canImport(Glibc)
import Glibc
#endif
import CRIAPI
import CRIClient
import GRPCCore
import OCI
import Support
import Testing

/// `hooks_dir` and `cdi_spec_dirs` with real runc and conmon: hook scripts
/// the test writes record what runc gives them, and a CDI spec the test
/// writes puts a device, a variable and a mount into a container.
@Suite struct HooksAndCDITests {
  let kit = ContainerTests()

  /// A directory of hook scripts and hooks.d files, removed afterwards.
  func withHooks<T: Sendable>(_ body: (_ directory: String) async throws -> T) async throws -> T {
    let directory = try Files.makeTemporaryDirectory(prefix: "crio-hooks")
    defer { Files.removeTree(directory) }
    try Files.makeDirectories(directory + "/hooks.d", mode: 0o755)
    try Files.makeDirectories(directory + "/records", mode: 0o755)
    // Records the state on stdin, its arguments and its environment under
    // records/<stage>.
    try Files.write(directory + "/record.sh", """
      #!/bin/sh
      cat > \(directory)/records/$1.state
      printf '%s\\n' "$0" "$@" > \(directory)/records/$1.args
      env > \(directory)/records/$1.env

      """, mode: 0o755)
    try Files.write(directory + "/fail.sh", "#!/bin/sh\necho \"hook refuses: the widget is broken\" >&2\nexit 1\n", mode: 0o755)
    try Files.write(directory + "/slow.sh", "#!/bin/sh\nexec sleep 30\n", mode: 0o755)
    func hook(_ name: String, script: String, stages: [String], annotation: String, timeout: Int? = nil, args: [String] = []) throws {
      let argsJSON = ([script] + args).map { "\"\($0)\"" }.joined(separator: ", ")
      try Files.write(directory + "/hooks.d/\(name).json", """
        {"version": "1.0.0",
         "hook": {"path": "\(directory)/\(script)", "args": [\(argsJSON)], "env": ["PATH=/usr/bin:/bin", "HOOK_TEST=yes"]\(timeout.map { ", \"timeout\": \($0)" } ?? "")},
         "when": {"annotations": {"^hooks\\\\.test/\(annotation)$": "^yes$"}},
         "stages": [\(stages.map { "\"\($0)\"" }.joined(separator: ", "))]}
        """)
    }
    for stage in ["prestart", "poststart", "poststop"] {
      try hook("record-\(stage)", script: "record.sh", stages: [stage], annotation: "record", args: [stage])
    }
    try hook("fail", script: "fail.sh", stages: ["prestart"], annotation: "fail")
    try hook("slow", script: "slow.sh", stages: ["createRuntime"], annotation: "slow", timeout: 1)
    return try await body(directory)
  }

  /// The config.json runc got for a container.
  static func bundleSpec(_ daemon: DaemonProcess, _ id: String) throws -> Spec {
    try OCIJSON.decode(Spec.self, from: Files.readBytes(daemon.directory + "/run/containers/\(id)/config.json"), kind: "config.json")
  }

  func annotated(_ name: String, _ annotation: String, _ script: String = "sleep 1000") -> Runtime_V1_ContainerConfig {
    var config = ContainerTests.container(name, script)
    config.annotations = ["hooks.test/\(annotation)": "yes"]
    return config
  }

  @Test func matchingHooksRunAtTheirStagesWithTheStateArgsAndEnvironment() async throws {
    try await withHooks { directory in
      try await kit.withPod(extraConfig: "[crio.runtime]\nhooks_dir = [\"\(directory)/hooks.d\"]\n") { cri, daemon, pod in
        let records = directory + "/records"
        // A container without the annotation gets no hook.
        let plain = try await kit.create(cri, pod: pod, ContainerTests.container("plain", "sleep 1000"))
        try await kit.start(cri, plain)
        #expect(try Files.list(records).isEmpty)

        let id = try await kit.create(cri, pod: pod, annotated("hooked", "record"))
        // What runc was given: the matching hooks by stage, none for the other container.
        let hooks = try Self.bundleSpec(daemon, id).hooks
        #expect(hooks?.prestart?.map(\.path) == ["\(directory)/record.sh"])
        #expect(hooks?.prestart?.first?.args == ["record.sh", "prestart"])
        #expect(hooks?.poststop?.count == 1 && hooks?.createRuntime == nil)
        #expect(try Self.bundleSpec(daemon, plain).hooks == nil)
        let prestart = try Files.read(records + "/prestart.state")
        #expect(prestart.contains("\"id\":\"\(id)\""), "the state on stdin: \(prestart)")
        #expect(prestart.contains("\"hooks.test/record\":\"yes\""), "with the annotations: \(prestart)")
        #expect(try Files.read(records + "/prestart.args") == "\(directory)/record.sh\nprestart\n")
        let environment = try Files.read(records + "/prestart.env").split(separator: "\n")
        #expect(environment.contains("HOOK_TEST=yes"))
        #expect(!environment.contains { $0.hasPrefix("HOME=") }, "only the hook's own environment: \(environment)")

        // runc 1.1 (Debian 12's) runs poststart hooks at `runc create`, later
        // ones after `runc start`: either way they have run once it started.
        try await kit.start(cri, id)
        #expect(try Files.read(records + "/poststart.state").contains("\"id\":\"\(id)\""))
        _ = try await cri.runtime.stopContainer(.with { $0.containerID = id; $0.timeout = 5 })
        _ = try await cri.runtime.removeContainer(.with { $0.containerID = id })
        let poststop = try Files.read(records + "/poststop.state")
        #expect(poststop.contains("\"id\":\"\(id)\""), "poststop runs when the container is deleted: \(poststop)")
        #expect(try Files.list(records).sorted() == [
          "poststart.args", "poststart.env", "poststart.state", "poststop.args", "poststop.env", "poststop.state",
          "prestart.args", "prestart.env", "prestart.state",
        ])
      }
    }
  }

  @Test func aFailingOrTimedOutHookFailsTheCreationWithItsWordsAndLeavesNothing() async throws {
    try await withHooks { directory in
      try await kit.withPod(extraConfig: "[crio.runtime]\nhooks_dir = [\"\(directory)/hooks.d\"]\n") { cri, daemon, pod in
        do {
          _ = try await kit.create(cri, pod: pod, annotated("failing", "fail"))
          Issue.record("a failing prestart hook let the container be created")
        } catch let error as RPCError {
          #expect(error.message.contains("hook refuses: the widget is broken"), "\(error)")
        }
        do {
          _ = try await kit.create(cri, pod: pod, annotated("slow", "slow"))
          Issue.record("a hook past its timeout let the container be created")
        } catch let error as RPCError {
          #expect(error.message.contains("timeout"), "\(error)")
        }
        #expect(try await cri.runtime.listContainers(.init()).containers.isEmpty)
        #expect(!daemon.mounts().contains { $0.hasSuffix("/rootfs") && $0.contains(daemon.directory) })
        // The names are free again: a container without the hooks' annotation takes one.
        _ = try await kit.create(cri, pod: pod, ContainerTests.container("failing", "true"))
      }
    }
  }

  @Test func anInvalidHookFileStopsStartUpNamingIt() async throws {
    let directory = try Files.makeTemporaryDirectory(prefix: "crio-hooks")
    defer { Files.removeTree(directory) }
    try Files.write(directory + "/broken.json", #"{"version": "1.0.0", "hook": {"path": "/no/such/hook"}, "when": {"always": true}, "stages": ["prestart"]}"#)
    let daemon = try DaemonProcess(config: "[crio.runtime]\nhooks_dir = [\"\(directory)\"]\n")
    #expect(await daemon.waitForExit() != 0)
    #expect(daemon.log().contains("hooks_dir"), "\(daemon.log())")
    #expect(daemon.log().contains(directory + "/broken.json"), "\(daemon.log())")
    await daemon.cleanUp()
  }

  /// A CDI spec directory with one device: /dev/null as /dev/cdi-null, a
  /// variable and a read-only bind mount of a file the test writes.
  func withCDISpecs<T: Sendable>(_ body: (_ directory: String) async throws -> T) async throws -> T {
    let directory = try Files.makeTemporaryDirectory(prefix: "crio-cdi")
    defer { Files.removeTree(directory) }
    try Files.makeDirectories(directory + "/specs", mode: 0o755)
    try Files.write(directory + "/payload", "from the CDI spec\n")
    try Files.write(directory + "/specs/test.yaml", """
      cdiVersion: 0.5.0
      kind: crio-test.example.com/dev
      containerEdits:
        env: [CDI_VENDOR=crio-test]
      devices:
        - name: devnull
          containerEdits:
            env: [CDI_DEVICE=devnull]
            deviceNodes:
              - path: /dev/cdi-null
                hostPath: /dev/null
            mounts:
              - hostPath: \(directory)/payload
                containerPath: /cdi/payload
                options: [ro, bind]

      """)
    return try await body(directory)
  }

  @Test func cdiDevicesFromTheRequestAndAnnotationsAreInjected() async throws {
    try await withCDISpecs { directory in
      try await kit.withPod(extraConfig: "[crio.runtime]\ncdi_spec_dirs = [\"/nonexistent-cdi\", \"\(directory)/specs\"]\n") { cri, daemon, pod in
        var config = ContainerTests.container("gpu", "sleep 1000")
        config.cdiDevices = [.with { $0.name = "crio-test.example.com/dev=devnull" }]
        let id = try await kit.create(cri, pod: pod, config)
        let linux = try Self.bundleSpec(daemon, id).linux
        let node = linux?.devices?.first { $0.path == "/dev/cdi-null" }
        #expect(node?.type == "c" && node?.major == 1 && node?.minor == 3, "\(String(describing: linux?.devices))")
        #expect(linux?.resources?.devices?.last == Spec.DeviceCgroup(allow: true, type: "c", major: 1, minor: 3, access: "rwm"))
        try await kit.start(cri, id)
        let script = "echo written > /dev/cdi-null && stat -c %t:%T /dev/cdi-null && echo $CDI_VENDOR $CDI_DEVICE && cat /cdi/payload && ! echo x 2>/dev/null > /cdi/payload"
        let inside = try await cri.runtime.execSync(.with { $0.containerID = id; $0.cmd = ["/bin/sh", "-c", script]; $0.timeout = 10 })
        #expect(String(decoding: inside.stdout, as: UTF8.self) == "1:3\ncrio-test devnull\nfrom the CDI spec\n", "\(String(decoding: inside.stderr, as: UTF8.self))")
        #expect(inside.exitCode == 0)

        var annotated = ContainerTests.container("annotated", "sleep 1000")
        annotated.annotations = ["cdi.k8s.io/test": "crio-test.example.com/dev=devnull"]
        let other = try await kit.create(cri, pod: pod, annotated)
        try await kit.start(cri, other)
        let env = try await cri.runtime.execSync(.with { $0.containerID = other; $0.cmd = ["/bin/sh", "-c", "echo $CDI_DEVICE; test -c /dev/cdi-null"] })
        #expect(String(decoding: env.stdout, as: UTF8.self) == "devnull\n")
        #expect(env.exitCode == 0)
      }
    }
  }

  @Test func cdiSpecDirsAreReloadedOnSIGHUP() async throws {
    try await withCDISpecs { directory in
      try await kit.withPod(extraConfig: "[crio.runtime]\ncdi_spec_dirs = [\"\(directory)/none\"]\n") { cri, daemon, pod in
        var config = ContainerTests.container("gpu", "true")
        config.cdiDevices = [.with { $0.name = "crio-test.example.com/dev=devnull" }]
        #expect(await rpcCode { try await kit.create(cri, pod: pod, config) } == .invalidArgument)
        try Files.write(daemon.configDir + "/50-cdi.conf", "[crio.runtime]\ncdi_spec_dirs = [\"\(directory)/specs\"]\n")
        daemon.send(signal: SIGHUP)
        #expect(await eventually { daemon.log().contains("Reloaded cdi_spec_dirs") })
        _ = try await kit.create(cri, pod: pod, config)
      }
    }
  }

  @Test func unknownOrMalformedCDIDevicesAreInvalidArguments() async throws {
    try await withCDISpecs { directory in
      try await kit.withPod(extraConfig: "[crio.runtime]\ncdi_spec_dirs = [\"\(directory)/specs\"]\n") { cri, _, pod in
        for (name, words) in [("crio-test.example.com/dev=nothing", "unresolvable CDI devices crio-test.example.com/dev=nothing"), ("no-vendor", "invalid CDI device name \"no-vendor\"")] {
          var config = ContainerTests.container("missing", "true")
          config.cdiDevices = [.with { $0.name = name }]
          do {
            _ = try await kit.create(cri, pod: pod, config)
            Issue.record("\(name) was accepted")
          } catch let error as RPCError {
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains(words), "\(error)")
          }
        }
        var annotated = ContainerTests.container("annotated", "true")
        annotated.annotations = ["cdi.k8s.io/x": "crio-test.example.com/dev=devnull,other.example.com/x=y"]
        #expect(await rpcCode { try await kit.create(cri, pod: pod, annotated) } == .invalidArgument)
        #expect(try await cri.runtime.listContainers(.init()).containers.isEmpty)
      }
    }
  }
}
