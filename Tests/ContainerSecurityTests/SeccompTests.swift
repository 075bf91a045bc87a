import ContainerSecurity
import FoundationEssentials
import OCI
import Support
import Testing

/// Whether an unconditional (argument-free) rule of `profile` allows `name`.
private func allowsOutright(_ profile: Spec.Seccomp, _ name: String) -> Bool {
  (profile.syscalls ?? []).contains { $0.action == "SCMP_ACT_ALLOW" && $0.args == nil && $0.names.contains(name) }
}

/// Whether any rule mentions `name` at all.
private func mentions(_ profile: Spec.Seccomp, _ name: String) -> Bool {
  (profile.syscalls ?? []).contains { $0.names.contains(name) }
}

private let defaultCaps = CapabilitySet.criODefaults
private let kernel = KernelVersion(kernel: 6, major: 1)

@Suite struct DefaultSeccompProfileTests {
  let profile = SeccompProfiles.runtimeDefault(architecture: .x86_64, capabilities: defaultCaps, kernel: kernel)

  @Test func headerIsErrnoEPERMWithHostArchitectures() {
    #expect(profile.defaultAction == "SCMP_ACT_ERRNO")
    #expect(profile.defaultErrnoRet == 1)
    #expect(profile.architectures == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"])
    let arm = SeccompProfiles.runtimeDefault(architecture: .aarch64, capabilities: defaultCaps, kernel: kernel)
    #expect(arm.architectures == ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"])
    let unknown = SeccompProfiles.runtimeDefault(
      architecture: SeccompArchitecture(machine: "pdp11"), capabilities: defaultCaps, kernel: kernel)
    #expect(unknown.architectures == nil)
  }

  @Test(arguments: [
    "read", "write", "openat", "close", "execve", "exit_group", "futex", "mmap", "epoll_wait", "getpid",
    "rt_sigaction", "socketpair", "accept4", "setuid", "capset", "statx", "io_setup", "arch_prctl", "modify_ldt",
  ])
  func commonSyscallsAreAllowed(name: String) {
    #expect(allowsOutright(profile, name))
  }

  @Test(arguments: [
    "unshare", "mount", "umount2", "setns", "keyctl", "add_key", "request_key", "kexec_load", "kexec_file_load",
    "reboot", "swapon", "swapoff", "init_module", "finit_module", "delete_module", "kcmp", "pidfd_getfd",
    "process_madvise", "bpf", "perf_event_open", "clock_settime", "settimeofday", "iopl", "ioperm", "acct", "syslog", "chroot",
    "open_by_handle_at", "userfaultfd", "clone3", "pivot_root", "fsopen", "move_mount", "open_tree",
    "set_mempolicy", "vhangup", "sethostname", "quotactl",
  ])
  func dangerousSyscallsAreNotAllowedWithDefaultCapabilities(name: String) {
    #expect(!allowsOutright(profile, name))
  }

  @Test func cloneIsAllowedOnlyWithoutNamespaceFlags() throws {
    let clones = (profile.syscalls ?? []).filter { $0.names == ["clone"] }
    try #require(clones.count == 1)
    #expect(clones[0].action == "SCMP_ACT_ALLOW")
    // CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET must all be clear.
    #expect(clones[0].args == [Spec.SyscallArg(index: 0, value: 0x7E02_0000, op: "SCMP_CMP_MASKED_EQ")])
    // clone3 hides its flags in a struct: it fails with ENOSYS so libc falls back to clone.
    let clone3 = (profile.syscalls ?? []).filter { $0.names == ["clone3"] }
    #expect(clone3 == [Spec.Syscall(names: ["clone3"], action: "SCMP_ACT_ERRNO", errnoRet: 38)])
  }

  @Test func s390CloneUsesTheSecondArgument() {
    let s390 = SeccompProfiles.runtimeDefault(architecture: .s390x, capabilities: defaultCaps, kernel: kernel)
    let clones = (s390.syscalls ?? []).filter { $0.names == ["clone"] }
    #expect(clones.map { $0.args?.first?.index } == [1])
    #expect(s390.architectures == ["SCMP_ARCH_S390X", "SCMP_ARCH_S390"])
  }

  @Test func personalityAndSocketAreArgumentConditioned() {
    let personality = (profile.syscalls ?? []).filter { $0.names == ["personality"] }
    #expect(personality.compactMap { $0.args?.first?.value } == [0, 8, 0x20000, 0x20008, 0xffff_ffff])
    let socket = (profile.syscalls ?? []).filter { $0.names == ["socket"] }
    // AF_ALG (38) and AF_VSOCK (40) are refused.
    #expect(socket.compactMap { $0.args?.first.map { "\($0.op) \($0.value)" } } == [
      "SCMP_CMP_LT 38", "SCMP_CMP_EQ 39", "SCMP_CMP_GT 40",
    ])
  }

  @Test func architectureRulesFollowTheHost() {
    #expect(mentions(profile, "arch_prctl"))
    #expect(!mentions(profile, "set_tls"))
    let arm = SeccompProfiles.runtimeDefault(architecture: .aarch64, capabilities: defaultCaps, kernel: kernel)
    #expect(allowsOutright(arm, "set_tls"))
    #expect(!mentions(arm, "arch_prctl"))
    #expect(!mentions(arm, "modify_ldt"))
  }

  @Test(arguments: [
    ("CAP_SYS_ADMIN", ["mount", "umount2", "unshare", "setns", "clone", "clone3", "sethostname", "bpf", "fsopen"]),
    // ptrace and process_vm_* are everyone's from kernel 4.8 on (see ptraceForEveryoneNeedsKernel48).
    ("CAP_SYS_PTRACE", ["kcmp", "pidfd_getfd", "process_madvise"]),
    ("CAP_SYS_MODULE", ["init_module", "finit_module", "delete_module"]),
    ("CAP_SYS_BOOT", ["reboot"]),
    ("CAP_SYS_RAWIO", ["iopl", "ioperm"]),
    ("CAP_SYS_TIME", ["settimeofday", "clock_settime", "stime"]),
    ("CAP_SYSLOG", ["syslog"]),
    ("CAP_SYS_PACCT", ["acct"]),
    ("CAP_SYS_NICE", ["mbind", "set_mempolicy", "get_mempolicy"]),
    ("CAP_SYS_CHROOT", ["chroot"]),
    ("CAP_DAC_READ_SEARCH", ["open_by_handle_at"]),
    ("CAP_SYS_TTY_CONFIG", ["vhangup"]),
    ("CAP_BPF", ["bpf"]),
    ("CAP_PERFMON", ["perf_event_open"]),
  ])
  func capabilityConditionedRulesAppearOnlyWithTheirCapability(cap: String, names: [String]) {
    let with = SeccompProfiles.runtimeDefault(architecture: .x86_64, capabilities: defaultCaps + [cap], kernel: kernel)
    for name in names {
      #expect(allowsOutright(with, name), "\(name) with \(cap)")
      #expect(!allowsOutright(profile, name), "\(name) without \(cap)")
    }
  }

  @Test func sysAdminDropsTheRestrictedCloneRules() {
    let admin = SeccompProfiles.runtimeDefault(
      architecture: .x86_64, capabilities: defaultCaps + ["sys_admin"], kernel: kernel)
    #expect(!(admin.syscalls ?? []).contains { $0.names == ["clone"] && $0.args != nil })
    #expect(!(admin.syscalls ?? []).contains { $0.names == ["clone3"] && $0.action == "SCMP_ACT_ERRNO" })
  }

  @Test func ptraceForEveryoneNeedsKernel48() {
    let old = SeccompProfiles.runtimeDefault(
      architecture: .x86_64, capabilities: defaultCaps, kernel: KernelVersion(kernel: 4, major: 4))
    #expect(!mentions(old, "ptrace"))
    let oldTracer = SeccompProfiles.runtimeDefault(
      architecture: .x86_64, capabilities: defaultCaps + ["CAP_SYS_PTRACE"], kernel: KernelVersion(kernel: 4, major: 4))
    #expect(allowsOutright(oldTracer, "ptrace") && allowsOutright(oldTracer, "process_vm_writev"))
    #expect((profile.syscalls ?? []).contains { $0.names == ["process_vm_readv", "process_vm_writev", "ptrace"] })
    let unknown = SeccompProfiles.runtimeDefault(architecture: .x86_64, capabilities: defaultCaps, kernel: nil)
    #expect(!mentions(unknown, "ptrace"))
  }

  @Test func encodesAsRuntimeSpecJSON() throws {
    let json = try JSONEncoderShim.encode(profile)
    #expect(json.contains("\"defaultAction\":\"SCMP_ACT_ERRNO\""))
    #expect(json.contains("\"defaultErrnoRet\":1"))
    #expect(!json.contains("includes"))
  }

  @Test func hostValuesAreReadable() {
    #expect(KernelVersion.current != nil)
    #expect(SeccompArchitecture.host.scmpArchitecture != nil)
  }

  @Test(arguments: [
    ("3.12.25-gentoo", KernelVersion(kernel: 3, major: 12)), ("3.12-1-amd64", KernelVersion(kernel: 3, major: 12)),
    ("6.18.44-fc-v857", KernelVersion(kernel: 6, major: 18)), ("4.8", KernelVersion(kernel: 4, major: 8)),
  ])
  func kernelReleasesParse(text: String, expected: KernelVersion) {
    #expect(KernelVersion(release: text) == expected)
  }

  @Test(arguments: ["", "6", "x.1", "v6.1"])
  func badKernelReleasesDoNotParse(text: String) {
    #expect(KernelVersion(release: text) == nil)
  }
}

@Suite final class LocalhostSeccompProfileTests {
  let directory: String

  init() throws {
    directory = try Files.makeTemporaryDirectory(prefix: "seccomp-test-")
  }

  deinit { Files.removeTree(directory) }

  private func write(_ name: String, _ text: String) throws -> String {
    let path = directory + "/" + name
    try Files.write(path, text)
    return path
  }

  @Test func dockerFormatProfileParses() throws {
    let path = try write(
      "docker.json",
      """
      {
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": 1,
        "archMap": [
          {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
          {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}
        ],
        "syscalls": [
          {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW", "args": [], "comment": "", "includes": {}, "excludes": {}},
          {"name": "personality", "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 8, "valueTwo": 0, "op": "SCMP_CMP_EQ"}]},
          {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
          {"names": ["kcmp"], "action": "SCMP_ACT_ERRNO", "errno": "EPERM", "excludes": {"caps": ["CAP_SYS_PTRACE"]}},
          {"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64"]}},
          {"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4.8"}},
          {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": null, "unknownKey": true}
        ]
      }
      """)
    let profile = try SeccompProfiles.load(path: path)
    #expect(profile.syscalls.count == 7)
    let resolved = profile.resolve(architecture: .x86_64, capabilities: ["CAP_CHOWN"], kernel: kernel)
    #expect(resolved.architectures == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"])
    #expect(resolved.syscalls == [
      Spec.Syscall(names: ["read", "write"], action: "SCMP_ACT_ALLOW"),
      Spec.Syscall(
        names: ["personality"], action: "SCMP_ACT_ALLOW",
        args: [Spec.SyscallArg(index: 0, value: 8, op: "SCMP_CMP_EQ")]),
      Spec.Syscall(names: ["kcmp"], action: "SCMP_ACT_ERRNO", errnoRet: 1),
      Spec.Syscall(names: ["arch_prctl"], action: "SCMP_ACT_ALLOW"),
      Spec.Syscall(names: ["ptrace"], action: "SCMP_ACT_ALLOW"),
      Spec.Syscall(names: ["socket"], action: "SCMP_ACT_ALLOW"),
    ])
    let admin = profile.resolve(architecture: .aarch64, capabilities: ["CAP_SYS_ADMIN", "CAP_SYS_PTRACE"], kernel: nil)
    #expect(admin.architectures == ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"])
    #expect(admin.syscalls?.map(\.names) == [["read", "write"], ["personality"], ["mount"], ["socket"]])
  }

  @Test func legacyArchitecturesAndFlagsPassThrough() throws {
    let path = try write(
      "oci.json",
      """
      {"defaultAction": "SCMP_ACT_LOG", "architectures": ["SCMP_ARCH_X86_64"],
       "flags": ["SECCOMP_FILTER_FLAG_LOG"], "defaultErrno": "ENOSYS",
       "syscalls": [{"names": ["getcwd"], "action": "SCMP_ACT_KILL_PROCESS"}]}
      """)
    let resolved = try SeccompProfiles.load(path: path, architecture: .x86_64, capabilities: [], kernel: kernel)
    #expect(resolved == Spec.Seccomp(
      defaultAction: "SCMP_ACT_LOG", defaultErrnoRet: 38, architectures: ["SCMP_ARCH_X86_64"],
      flags: ["SECCOMP_FILTER_FLAG_LOG"], syscalls: [Spec.Syscall(names: ["getcwd"], action: "SCMP_ACT_KILL_PROCESS")]))
  }

  @Test func missingFileIsNamed() throws {
    let path = directory + "/nope.json"
    #expect(throws: SeccompProfileError.notFound(path: path)) { try SeccompProfiles.load(path: path) }
    #expect(SeccompProfileError.notFound(path: path).description.contains(path))
  }

  @Test(arguments: [
    ("{\"defaultAction\": ", "not valid JSON"),
    ("[]", "wrong type"),
    ("{\"syscalls\": []}", "defaultAction is missing"),
    ("{\"defaultAction\": \"SCMP_ACT_DENY\"}", "defaultAction: unknown action \"SCMP_ACT_DENY\""),
    ("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"]}]}", "syscalls[0].action is missing"),
    ("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": \"read\", \"action\": \"SCMP_ACT_ALLOW\"}]}", "syscalls[0].names has the wrong type"),
    ("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [], \"action\": \"SCMP_ACT_ALLOW\"}]}", "syscalls[0]: no syscall names"),
    ("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"name\": \"a\", \"names\": [\"b\"], \"action\": \"SCMP_ACT_ALLOW\"}]}", "both \"name\" and \"names\""),
    ("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_LIKE\"}]}]}", "syscalls[0].args[0]: unknown operator"),
    ("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 0, \"value\": -1, \"op\": \"SCMP_CMP_EQ\"}]}]}", "syscalls[0].args[0].value"),
    ("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"architectures\": [\"SCMP_ARCH_X86_64\"], \"archMap\": [{\"architecture\": \"SCMP_ARCH_X86_64\"}]}", "both \"architectures\" and \"archMap\""),
    ("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"architectures\": [\"x86_64\"]}", "architectures[0]: unknown architecture"),
    ("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrno\": \"EWHATEVER\"}", "unknown errno name"),
    ("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": -1}]}", "syscalls[0].errnoRet: -1 is out of range"),
    ("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}", "SCMP_ACT_NOTIFY"),
    ("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"includes\": {\"minKernel\": \"4\"}}]}", "syscalls[0].includes.minKernel"),
  ])
  func malformedProfilesAreRefusedWithTheReason(json: String, expected: String) throws {
    let path = try write("bad.json", json)
    do {
      _ = try SeccompProfiles.load(path: path)
      Issue.record("\(json) was accepted")
    } catch {
      guard case .invalid(let named, let reason) = error else {
        Issue.record("unexpected \(error)")
        return
      }
      #expect(named == path)
      #expect(reason.contains(expected), "\(reason)")
      #expect(error.description.hasPrefix("invalid seccomp profile \(path): "))
    }
  }

  @Test func requestsParse() throws {
    #expect(try SeccompProfiles.Request(parsing: "") == .unconfined)
    #expect(try SeccompProfiles.Request(parsing: "unconfined") == .unconfined)
    #expect(try SeccompProfiles.Request(parsing: "runtime/default") == .runtimeDefault)
    #expect(try SeccompProfiles.Request(parsing: "docker/default") == .runtimeDefault)
    #expect(try SeccompProfiles.Request(parsing: "localhost/etc/p.json") == .localhost("/etc/p.json"))
    #expect(throws: SeccompProfileError.self) { try SeccompProfiles.Request(parsing: "default") }
    #expect(try SeccompProfiles.profile(for: .unconfined, capabilities: []) == nil)
    #expect(try SeccompProfiles.profile(for: .runtimeDefault, capabilities: [])?.defaultErrnoRet == 1)
    #expect(throws: SeccompProfileError.self) {
      try SeccompProfiles.profile(for: .localhost("/a/../etc/shadow"), capabilities: [])
    }
  }
}

/// Encodes with Foundation (OCI's models are Codable).
enum JSONEncoderShim {
  static func encode<T: Encodable>(_ value: T) throws -> String {
    String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
  }
}
