import Foundation
import OCI
import Runtime
import Support
import Testing

@Suite struct RuntimeSpecTests {
  @Test func encodesRuntimeSpecKeyNamesAndOmitsNil() throws {
    let spec = Spec(
      process: Spec.Process(
        user: Spec.User(uid: 1000, gid: 1000, umask: 0o022, additionalGids: [10]),
        args: ["sh"], env: ["A=b"], cwd: "/work",
        capabilities: Spec.Capabilities(bounding: ["CAP_KILL"], ambient: []),
        rlimits: [Spec.Rlimit(type: "RLIMIT_NOFILE", hard: 10, soft: 5)],
        noNewPrivileges: true, apparmorProfile: "unconfined", oomScoreAdj: 100, selinuxLabel: "l"),
      root: Spec.Root(path: "rootfs", readonly: true),
      hostname: "h",
      mounts: [Spec.Mount(destination: "/proc", type: "proc", source: "proc")],
      linux: Spec.Linux(
        namespaces: [Spec.Namespace(type: "network", path: "/var/run/netns/x")],
        uidMappings: [Spec.IDMapping(containerID: 0, hostID: 100000, size: 65536)],
        devices: [Spec.Device(type: "c", path: "/dev/fuse", major: 10, minor: 229, fileMode: 0o666)],
        cgroupsPath: "/kubepods/pod1/ctr",
        resources: Spec.Resources(
          memory: Spec.Memory(limit: 1 << 30, swap: 1 << 30),
          cpu: Spec.CPU(shares: 512, quota: 50000, period: 100000, cpus: "0-1", mems: "0"),
          pids: Spec.Pids(limit: 1024),
          hugepageLimits: [Spec.HugepageLimit(pageSize: "2MB", limit: 0)],
          unified: ["memory.high": "max"]),
        sysctl: ["net.ipv4.ip_forward": "1"],
        seccomp: Spec.Seccomp(
          defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: 1, architectures: ["SCMP_ARCH_X86_64"],
          syscalls: [
            Spec.Syscall(
              names: ["personality"], action: "SCMP_ACT_ALLOW",
              args: [Spec.SyscallArg(index: 0, value: 0, op: "SCMP_CMP_EQ")])
          ]),
        maskedPaths: ["/proc/kcore"], readonlyPaths: ["/proc/sys"], rootfsPropagation: "rprivate",
        mountLabel: "m"))
    let data = try JSONEncoder().encode(spec)
    let object = try #require(JSONSerialization.jsonObject(with: data) as? [String: Any])
    #expect(object["ociVersion"] as? String == "1.0.2")
    let process = try #require(object["process"] as? [String: Any])
    for key in ["user", "args", "env", "cwd", "capabilities", "rlimits", "noNewPrivileges", "apparmorProfile", "oomScoreAdj", "selinuxLabel"] {
      #expect(process[key] != nil, "process.\(key)")
    }
    #expect(process["terminal"] == nil)
    #expect((process["user"] as? [String: Any])?["additionalGids"] as? [Int] == [10])
    let linux = try #require(object["linux"] as? [String: Any])
    for key in ["namespaces", "uidMappings", "devices", "cgroupsPath", "resources", "sysctl", "seccomp", "maskedPaths", "readonlyPaths", "rootfsPropagation", "mountLabel"] {
      #expect(linux[key] != nil, "linux.\(key)")
    }
    #expect(linux["gidMappings"] == nil)
    let mapping = try #require((linux["uidMappings"] as? [[String: Any]])?.first)
    #expect(Set(mapping.keys) == ["containerID", "hostID", "size"])
    let resources = try #require(linux["resources"] as? [String: Any])
    #expect(Set(resources.keys) == ["memory", "cpu", "pids", "hugepageLimits", "unified"])
    #expect(Set((resources["cpu"] as? [String: Any] ?? [:]).keys) == ["shares", "quota", "period", "cpus", "mems"])
    #expect(((resources["hugepageLimits"] as? [[String: Any]])?.first?["pageSize"]) as? String == "2MB")
    let seccomp = try #require(linux["seccomp"] as? [String: Any])
    #expect(seccomp["defaultErrnoRet"] as? Int == 1)
    #expect(((seccomp["syscalls"] as? [[String: Any]])?.first?["args"] as? [[String: Any]])?.first?["op"] as? String == "SCMP_CMP_EQ")
    #expect(try JSONDecoder().decode(Spec.self, from: data) == spec)
  }

  @Test func minimalSpecHasOnlyVersion() throws {
    let text = String(decoding: try JSONEncoder().encode(Spec()), as: UTF8.self)
    #expect(text == #"{"ociVersion":"1.0.2"}"#)
  }

  @Test func decodesRuncSpecOutput() throws {
    // The shape `runc spec` prints, trimmed.
    let json = #"""
      {"ociVersion":"1.0.2-dev","process":{"terminal":true,"user":{"uid":0,"gid":0},"args":["sh"],
       "env":["PATH=/bin"],"cwd":"/","capabilities":{"bounding":["CAP_KILL"],"effective":["CAP_KILL"],
       "permitted":["CAP_KILL"],"ambient":["CAP_KILL"]},"rlimits":[{"type":"RLIMIT_NOFILE","hard":1024,"soft":1024}],
       "noNewPrivileges":true},"root":{"path":"rootfs","readonly":true},"hostname":"runc",
       "mounts":[{"destination":"/proc","type":"proc","source":"proc"}],
       "linux":{"resources":{"devices":[{"allow":false,"access":"rwm"}]},"namespaces":[{"type":"pid"},{"type":"network"}],
       "maskedPaths":["/proc/acpi"],"readonlyPaths":["/proc/bus"]}}
      """#
    let spec = try JSONDecoder().decode(Spec.self, from: Data(json.utf8))
    #expect(spec.process?.terminal == true)
    #expect(spec.linux?.namespaces?.map(\.type) == ["pid", "network"])
    #expect(spec.linux?.resources?.devices?.first == Spec.DeviceCgroup(allow: false, access: "rwm"))
  }
}

@Suite struct OCIBundleTests {
  @Test func writesConfigAtomicallyWith0600AndRemoves() throws {
    let dir = try Files.makeTemporaryDirectory(prefix: "crio-bundle-")
    defer { Files.removeTree(dir) }
    let path = dir + "/a/b"
    let first = Spec(hostname: "one")
    let bundle = try OCIBundle.create(at: path, spec: first)
    #expect(try bundle.readConfig() == first)
    let attributes = try FileManager.default.attributesOfItem(atPath: bundle.configPath)
    #expect((attributes[.posixPermissions] as? Int) == 0o600)

    let second = Spec(hostname: "two", annotations: ["k": "v/w"])
    try bundle.writeConfig(second)
    #expect(try bundle.readConfig() == second)
    #expect(try FileManager.default.contentsOfDirectory(atPath: path) == ["config.json"])
    #expect(try String(contentsOfFile: bundle.configPath, encoding: .utf8).contains("\"v/w\""))

    bundle.remove()
    #expect(!FileManager.default.fileExists(atPath: path))
    bundle.remove()  // removing twice is fine
  }

  @Test func readingAMissingConfigFails() {
    #expect(throws: RuntimeError.self) { try OCIBundle(path: "/nonexistent-crio-bundle").readConfig() }
  }
}

@Suite struct ConmonArgumentTests {
  @Test func argumentsFollowCRIO() {
    let runtime = ConmonRuntime(
      config: RuntimeHandlerConfig(
        runtimePath: "/usr/sbin/runc", runtimeRoot: "/run/runc-root", exitsDir: "/run/exits",
        attachSocketDir: "/run/attach", logSizeMax: 1024))
    let args = runtime.conmonArguments(CreateRequest(
      layout: runtime.layout(id: "abc", bundle: "/b"), name: "k8s_ctr", logPath: "/logs/0.log", terminal: false,
      stdin: true, stdinOnce: false))
    func value(_ flag: String) -> String? {
      args.firstIndex(of: flag).map { args[$0 + 1] }
    }
    #expect(value("-b") == "/b")
    #expect(value("-c") == "abc")
    #expect(value("-u") == "abc")
    #expect(value("-n") == "k8s_ctr")
    #expect(value("-r") == "/usr/sbin/runc")
    #expect(value("--runtime-arg") == "--root=/run/runc-root")
    #expect(value("-l") == "k8s-file:/logs/0.log")
    #expect(value("--exit-dir") == "/run/exits")
    #expect(value("--socket-dir-path") == "/run/attach")
    #expect(value("-P") == "/b/conmon.pid")
    #expect(value("-p") == "/b/pidfile")
    #expect(value("--log-size-max") == "1024")
    #expect(args.contains("-i") && args.contains("--leave-stdin-open") && !args.contains("-t"))
    let tty = runtime.conmonArguments(CreateRequest(
      layout: runtime.layout(id: "abc", bundle: "/b"), name: "abc", logPath: "/l", terminal: true, stdin: true,
      stdinOnce: true))
    #expect(tty.contains("-t") && !tty.contains("-i"))
  }

  @Test func errorMessagesNameTheContainer() {
    let error = RuntimeError.createFailed(id: "c1", message: "rootfs missing")
    #expect(error.description.contains("c1") && error.description.contains("rootfs missing"))
    let failed = RuntimeError.runtimeFailed(id: "c2", operation: "start", status: 1, stderr: "boom")
    #expect(failed.description.contains("c2") && failed.description.contains("boom"))
  }
}
