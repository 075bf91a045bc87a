#if canImport(Glibc)
import Glibc
#endif
import CRIAPI
import CRIClient
import Support
import Testing

/// The PID 1 of a pod whose containers share a PID namespace is in every
/// container's reach through /proc/1. It was once the daemon's own helper,
/// in the host's mount namespace with every capability, and a container
/// given SYS_PTRACE read the host's /etc/shadow through /proc/1/root. These
/// tests are that attack and its variants, from inside a real container.
@Suite struct PodInitConfinementTests {
  let kit = ContainerTests()

  /// A root container with SYS_PTRACE (a debugging sidecar) in the pod's
  /// shared PID namespace, running until the test ends.
  func attacker(_ cri: CRIConnection, pod: String) async throws -> String {
    var config = ContainerTests.container("attacker", "sleep 1000")
    config.linux.securityContext.namespaceOptions.pid = .pod
    config.linux.securityContext.runAsUser = .with { $0.value = 0 }
    config.linux.securityContext.capabilities.addCapabilities = ["SYS_PTRACE"]
    let id = try await kit.create(cri, pod: pod, config)
    try await kit.start(cri, id)
    return id
  }

  func run(_ cri: CRIConnection, _ id: String, _ script: String) async throws -> (out: String, code: Int32) {
    let response = try await cri.runtime.execSync(.with {
      $0.containerID = id
      $0.cmd = ["/bin/sh", "-c", script]
      $0.timeout = 20
    })
    return (String(decoding: response.stdout, as: UTF8.self) + String(decoding: response.stderr, as: UTF8.self), response.exitCode)
  }

  @Test func nothingOfTheHostIsReachableThroughTheInit() async throws {
    try await kit.withPod(pod: { $0.linux.securityContext.namespaceOptions.pid = .pod }) { cri, daemon, pod in
      try await attack(cri, daemon, pod, environment: [])
    }
  }

  /// `drop_infra_ctr = false`: the infra container, PID 1 in its place,
  /// is as far out of reach (its root is the pause image's).
  @Test func nothingOfTheHostIsReachableThroughTheInfraContainer() async throws {
    try await PodInfraTests().withInfraDaemon { cri, daemon, _ in
      var config = PodSandboxTests.podConfig(name: "confined-infra")
      config.linux.securityContext.namespaceOptions.pid = .pod
      config.logDirectory = daemon.directory + "/logs/confined-infra"
      let pod = try await PodSandboxTests.run(cri, config)
      try await attack(cri, daemon, pod, environment: [PodInfraTests.pausePath])
    }
  }

  /// The attack from a root container with SYS_PTRACE on the pod's PID 1,
  /// whose environment may hold `environment` besides runc's HOME=/.
  func attack(_ cri: CRIConnection, _ daemon: DaemonProcess, _ pod: String, environment allowed: Set<String>) async throws {
    let id = try await attacker(cri, pod: pod)
    let own = try await run(cri, id, "grep CapEff /proc/self/status").out
    let effective = UInt64(own.split(separator: "\t").last.map { String($0.prefix(16)) } ?? "", radix: 16) ?? 0
    #expect(effective & (1 << 19) != 0, "the attacker does hold CAP_SYS_PTRACE: \(own)")

    // The host's root, and its shadow file, through /proc/1/root and /proc/1/cwd.
    for link in ["root", "cwd"] {
      let listing = try await run(cri, id, "ls -A /proc/1/\(link)/")
      #expect(listing.code == 0, "the init's root can be listed: \(listing.out)")
      #expect(Set(listing.out.split(separator: "\n")) == ["dev", "pause", "proc"], "/proc/1/\(link) is the init's own root: \(listing.out)")
      let shadow = try await run(cri, id, "head -c 60 /proc/1/\(link)/etc/shadow")
      #expect(shadow.code != 0, "no host shadow through /proc/1/\(link): \(shadow.out)")
      #expect(!shadow.out.contains("root:"))
    }
    // No descriptors, no environment.
    #expect(try await run(cri, id, "ls -A /proc/1/fd/ | wc -l").out == "0\n")
    // runc gives a process without HOME one (HOME=/); nothing else.
    let environment = try await run(cri, id, "tr '\\0' '\\n' < /proc/1/environ")
    #expect(environment.code == 0, "the init's environment can be read: \(environment.out)")
    #expect(environment.out.split(separator: "\n").allSatisfy { $0 == "HOME=/" || allowed.contains(String($0)) }, "none of the daemon's environment: \(environment.out)")
    // The executable is the init in its root, and cannot be written.
    #expect(try await run(cri, id, "readlink /proc/1/exe").out == "/pause\n")
    let overwrite = try await run(cri, id, "printf x >> /proc/1/exe")
    #expect(overwrite.code != 0, "the init's executable is read-only: \(overwrite.out)")
    let mapped = try await run(cri, id, "cat /proc/1/maps")
    #expect(!mapped.out.contains("/usr/") && !mapped.out.contains("libc"), "nothing of the host is mapped: \(mapped.out)")

    // Its confinement, as the kernel reports it.
    let status = try await run(cri, id, "cat /proc/1/status").out
    func field(_ name: String) -> String {
      status.split(separator: "\n").first { $0.hasPrefix(name + ":") }.map { String($0.dropFirst(name.count + 1)).trimmingSpaces } ?? "absent"
    }
    #expect(field("Name") == "pause")
    for set in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
      #expect(field(set) == "0000000000000000", "\(set) of the init: \(field(set))")
    }
    #expect(field("NoNewPrivs") == "1")
    #expect(field("Seccomp") == "2", "the default seccomp profile (filter mode)")
    #expect(field("Uid").hasPrefix("65535"), "it runs as Kubernetes' pause user: \(field("Uid"))")
    // The pod's cgroup, not the daemon's or the root.
    let cgroup = try await run(cri, id, "cat /proc/1/cgroup").out
    #expect(cgroup.contains("crio-\(pod)"), "the init is in the pod's cgroup: \(cgroup)")
    // Not the host's mount namespace.
    let namespaces = try await run(cri, id, "readlink /proc/1/ns/mnt").out
    var hostMount = [CChar](repeating: 0, count: 64)
    let length = readlink("/proc/self/ns/mnt", &hostMount, 63)
    #expect(length > 0 && !namespaces.hasPrefix(String(decoding: hostMount[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)))

    // Stopping the pod ends the init with everything in its namespace.
    try await PodSandboxTests.stop(cri, pod)
    #expect(try await kit.status(cri, id).state == .containerExited)
    try await PodSandboxTests.remove(cri, pod)
    #expect(await eventually { daemon.processes().isEmpty }, "no init or conmon left: \(daemon.processes())")
  }
}

extension String {
  fileprivate var trimmingSpaces: String {
    String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
  }
}
