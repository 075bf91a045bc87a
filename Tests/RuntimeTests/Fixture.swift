import Foundation
import OCI
import Runtime
import Support
import Testing

/// The two ways of running containers the lifecycle tests run against:
/// one conmon per container, or one pod monitor for the fixture's pod.
enum RuntimeKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
  case conmon, podMonitor
  var testDescription: String { rawValue }
}

/// What the tests call beyond the `ContainerRuntime` seam: both runtimes
/// wait for exits and stop containers the same way.
protocol FixtureRuntime: ContainerRuntime {
  func exitCode(id: String) -> Int32?
  func waitForExit(id: String, timeout: Duration) async -> Int32?
  func stop(id: String, timeout: Duration, signal: Int32) async throws(RuntimeError) -> Int32
}

extension ConmonRuntime: FixtureRuntime {}
extension PodMonitorRuntime: FixtureRuntime {}

extension FixtureRuntime {
  func stop(id: String, timeout: Duration) async throws(RuntimeError) -> Int32 {
    try await stop(id: id, timeout: timeout, signal: SIGTERM)
  }

  func delete(id: String) async throws(RuntimeError) { try await delete(id: id, force: false) }
}

/// One test's world: a temporary directory with a busybox rootfs, its own runc
/// root, exits and attach directories, and the containers it made, all
/// removed by `cleanUp` (even after a failure, see `withFixture`). With the
/// pod monitor, the directory also holds the pod's, and its monitor runs
/// from `withFixture` until the clean-up.
final class Fixture: @unchecked Sendable {
  let root: String
  let rootfs: String
  let config: RuntimeHandlerConfig
  let kind: RuntimeKind
  let runtime: any FixtureRuntime
  /// The fixture's pod, for the pod monitor.
  var pod: PodRuntimeContext { PodRuntimeContext(id: "pod-" + String(root.split(separator: "-").last ?? ""), directory: root + "/pod") }
  private let lock = NSLock()
  private var containers: [(id: String, bundle: OCIBundle)] = []

  static let runcPath: String = {
    for path in ["/usr/sbin/runc", "/usr/bin/runc", "/usr/local/sbin/runc", "/usr/local/bin/runc"]
    where access(path, X_OK) == 0 {
      return path
    }
    return "/usr/sbin/runc"
  }()

  init(_ kind: RuntimeKind = .conmon) throws {
    self.kind = kind
    root = try Files.makeTemporaryDirectory(prefix: "crio-rt-")
    rootfs = root + "/rootfs"
    let fm = FileManager.default
    try fm.createDirectory(atPath: rootfs + "/bin", withIntermediateDirectories: true)
    for dir in ["proc", "dev", "tmp", "etc"] {
      try fm.createDirectory(atPath: rootfs + "/" + dir, withIntermediateDirectories: true)
    }
    try Self.copyExecutable("/bin/busybox", to: rootfs + "/bin/busybox")
    for applet in ["sh", "echo", "sleep", "cat", "true", "false", "ps", "kill", "stty", "dd", "rm", "touch"] {
      try fm.createSymbolicLink(atPath: rootfs + "/bin/" + applet, withDestinationPath: "busybox")
    }
    let podMonitor = kind == .podMonitor
    config = RuntimeHandlerConfig(
      runtimePath: Self.runcPath, runtimeRoot: root + "/runc-root",
      conmonPath: podMonitor ? PodMonitorRuntime.defaultMonitorPath : "/usr/bin/conmon",
      exitsDir: root + "/exits", attachSocketDir: root + "/attach", createTimeout: .seconds(120),
      commandTimeout: .seconds(120))
    runtime = podMonitor ? PodMonitorRuntime(config: config) : ConmonRuntime(config: config)
    try FileManager.default.createDirectory(atPath: root + "/pod", withIntermediateDirectories: true)
  }

  /// A create request for `id` in the fixture's pod.
  func request(id: String, bundle: String, terminal: Bool = false, stdin: Bool = false, stdinOnce: Bool = false) -> CreateRequest {
    var request = CreateRequest(
      layout: runtime.layout(id: id, bundle: bundle), name: id, logPath: logPath(id: id), terminal: terminal, stdin: stdin,
      stdinOnce: stdinOnce)
    request.pod = pod
    return request
  }

  /// Copies through a close-on-exec descriptor. (FileManager.copyItem's
  /// descriptor can leak into a process another test spawns meanwhile, which
  /// then makes exec of the copy fail with ETXTBSY, "text file busy".)
  static func copyExecutable(_ source: String, to destination: String) throws {
    let bytes = try Files.readBytes(source)
    let fd = open(destination, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o755)
    guard fd >= 0 else { throw SystemError("open", path: destination) }
    defer { close(fd) }
    try Files.writeAll(fd, bytes, path: destination)
  }

  static func uniqueID() -> String {
    "crt-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
  }

  /// A minimal CRI-style spec running `sh -c script`.
  func spec(id: String, script: String, rootPath: String? = nil) -> Spec {
    let capabilities = [
      "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
      "CAP_NET_BIND_SERVICE", "CAP_KILL",
    ]
    return Spec(
      process: Spec.Process(
        user: Spec.User(uid: 0, gid: 0),
        args: ["/bin/sh", "-c", script],
        env: ["PATH=/bin", "HOME=/"],
        cwd: "/",
        capabilities: .uniform(capabilities),
        rlimits: [Spec.Rlimit(type: "RLIMIT_NOFILE", hard: 1024, soft: 1024)],
        noNewPrivileges: true),
      root: Spec.Root(path: rootPath ?? rootfs, readonly: false),
      hostname: "runtime-test",
      mounts: [
        Spec.Mount(destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"]),
        Spec.Mount(
          destination: "/dev", type: "tmpfs", source: "tmpfs",
          options: ["nosuid", "strictatime", "mode=755", "size=65536k"]),
        Spec.Mount(
          destination: "/dev/pts", type: "devpts", source: "devpts",
          options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]),
        Spec.Mount(
          destination: "/dev/shm", type: "tmpfs", source: "shm",
          options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
      ],
      annotations: ["io.kubernetes.cri-o.test": id],
      linux: Spec.Linux(
        namespaces: ["pid", "ipc", "uts", "mount", "network"].map { Spec.Namespace(type: $0) },
        cgroupsPath: "/crio-test-" + id,
        resources: Spec.Resources(
          devices: [Spec.DeviceCgroup(allow: false, access: "rwm")],
          pids: Spec.Pids(limit: 100)),
        maskedPaths: ["/proc/kcore", "/proc/keys"],
        readonlyPaths: ["/proc/sys"]))
  }

  /// Writes a bundle for `id` and remembers the container for clean-up.
  func bundle(id: String, spec: Spec) throws -> OCIBundle {
    let bundle = try OCIBundle.create(at: root + "/bundles/" + id, spec: spec)
    lock.withLock { containers.append((id, bundle)) }
    return bundle
  }

  func logPath(id: String) -> String { root + "/logs/" + id + ".log" }

  /// Creates `id` running `script`, with its log under the fixture.
  func create(script: String, id: String = Fixture.uniqueID()) async throws -> ContainerProcess {
    try FileManager.default.createDirectory(atPath: root + "/logs", withIntermediateDirectories: true)
    let bundle = try bundle(id: id, spec: spec(id: id, script: script))
    return try await runtime.create(request(id: id, bundle: bundle.path))
  }

  /// The container's log and conmon's output, for failure messages.
  func diagnostics(id: String) -> String {
    let log = (try? String(contentsOfFile: logPath(id: id), encoding: .utf8)) ?? ""
    let conmon = (try? String(contentsOfFile: root + "/bundles/" + id + "/conmon.output", encoding: .utf8)) ?? ""
    let monitor = (try? String(contentsOfFile: pod.directory + "/monitor.log", encoding: .utf8)) ?? ""
    return "container log: \(log)\nconmon output: \(conmon)\npod monitor output: \(monitor)"
  }

  func cleanUp() async {
    let all = lock.withLock { containers }
    if kind == .podMonitor { await runtime.stopPod(pod) }
    for (id, bundle) in all {
      try? await runtime.delete(id: id, force: true)
      if let text = try? String(contentsOfFile: bundle.path + "/conmon.pid", encoding: .utf8),
        let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0
      {
        _ = Foundation.kill(pid, SIGKILL)
      }
      // If runc could not delete, do not leak cgroups.
      for controller in (try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? [] {
        rmdir("/sys/fs/cgroup/\(controller)/crio-test-\(id)")
      }
    }
    Files.removeTree(root)
  }
}

/// Runs `body` with a fresh fixture and always cleans up.
func withFixture(_ kind: RuntimeKind = .conmon, _ body: (Fixture) async throws -> Void) async throws {
  let fixture = try Fixture(kind)
  do {
    if kind == .podMonitor { try await fixture.runtime.startPod(fixture.pod) }
    try await body(fixture)
  } catch {
    await fixture.cleanUp()
    throw error
  }
  await fixture.cleanUp()
}

/// Polls `condition` until it holds or `timeout` passes.
func eventually(timeout: Duration = .seconds(60), _ condition: () async throws -> Bool) async rethrows -> Bool {
  let deadline = ContinuousClock.now + timeout
  while ContinuousClock.now < deadline {
    if try await condition() { return true }
    try? await Task.sleep(for: .milliseconds(20))
  }
  return try await condition()
}

func readPid(_ path: String) -> Int32? {
  guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
  return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
}
