#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CRIAPI
import Support

/// A `crio` daemon started as an operator starts it, on its own temporary
/// socket, root and runroot, so tests and benchmarks can run side by side and
/// again. `cleanUp()` kills it if needed and removes its directory.
public final class DaemonProcess: Sendable {
  /// The temporary directory holding everything this daemon owns.
  public let directory: String
  public let pid: pid_t
  public let socket: String
  public var logFile: String { directory + "/daemon.log" }
  public var configFile: String { directory + "/crio.conf" }
  public var configDir: String { directory + "/crio.conf.d" }

  /// Starts the daemon. `config` is written to its crio.conf (tests may change
  /// it and send SIGHUP); `arguments` come after the standard flags.
  /// `prepare` runs on the directory before the daemon starts (to leave
  /// files a previous daemon would have left).
  /// `reusing` starts it on the directory of an earlier (killed) daemon, to
  /// test what a restart finds. `environment` ("KEY=value") is added to the
  /// inherited environment (test hooks such as CRIO_TEST_CRASH_AT).
  public init(
    config: String = "", arguments: [String] = [], socket: String? = nil, reusing: String? = nil,
    environment: [String] = [], prepare: (String) throws -> Void = { _ in }
  ) throws {
    let directory = try reusing ?? Files.makeTemporaryDirectory(prefix: "crio-t")
    self.directory = directory
    if reusing == nil {
      // A network of only the loopback plugin: pods get a network namespace
      // with lo up and no address to leak. Tests of CNI itself put their
      // own (lexically earlier) configs beside it or remove it in `prepare`.
      try Files.makeDirectories(directory + "/cni/net.d", mode: 0o755)
      try Files.write(directory + "/cni/net.d/99-loopback.conflist", Self.loopbackNetwork)
    }
    try prepare(directory)
    self.socket = socket ?? directory + "/crio.sock"
    try Files.write(directory + "/crio.conf", config)
    try Files.makeDirectories(directory + "/crio.conf.d", mode: 0o755)
    // Pinned namespaces, runc's state, exit files, attach sockets, the
    // version files and the clean shutdown file go under the test's own
    // directory, not /var/run, /var/lib/crio and /run/runc.
    try Files.write(directory + "/crio.conf.d/00-test.conf", """
      [crio]
      version_file = "\(directory)/run/version"
      version_file_persist = "\(directory)/root/version"
      clean_shutdown_file = "\(directory)/root/clean.shutdown"

      [crio.runtime]
      namespaces_dir = "\(directory)/ns"
      container_exits_dir = "\(directory)/exits"
      container_attach_socket_dir = "\(directory)/attach"

      [crio.runtime.runtimes.runc]
      runtime_root = "\(directory)/runc"
      \(Self.runtimeTypeOverride)

      [crio.network]
      network_dir = "\(directory)/cni/net.d"

      """)
    let args = Self.standardArguments(directory: directory, socket: self.socket) + arguments
    var inherited: [String] = []
    var entry = environ
    while let variable = entry.pointee {
      inherited.append(String(cString: variable))
      entry += 1
    }
    pid = try Processes.spawn(
      CrioBinary.path, args, stdout: directory + "/daemon.out", stderr: directory + "/daemon.log",
      environment: environment.isEmpty ? nil : inherited + environment)
  }

  /// `CRIO_TEST_RUNTIME_TYPE=pod` gives every daemon the tests start the
  /// pod monitor as its default handler's runtime type (over what a test's
  /// own configuration says): the whole suite run against it, as against
  /// conmon, is what decides which one is the default.
  public static var forcedRuntimeType: String? {
    guard let value = getenv("CRIO_TEST_RUNTIME_TYPE").map({ String(cString: $0) }), !value.isEmpty else { return nil }
    return value
  }

  static var runtimeTypeOverride: String { forcedRuntimeType.map { "runtime_type = \"\($0)\"" } ?? "" }

  /// The flags every daemon of this kind gets: its files, socket and
  /// directories. Other commands (`crio wipe`, `crio config`) given them
  /// see what the daemon sees.
  public var standardArguments: [String] { Self.standardArguments(directory: directory, socket: socket) }

  static func standardArguments(directory: String, socket: String) -> [String] {
    [
      "--config", directory + "/crio.conf", "--config-dir", directory + "/crio.conf.d",
      "--listen", socket,
      "--root", directory + "/root", "--runroot", directory + "/run",
      "--log-dir", directory + "/pods",
    ]
  }

  /// Waits until the socket accepts connections, failing early (with the
  /// daemon's log) if the process exits first. `settled` also waits for a
  /// Status answer, which comes once the daemon's start-up probes (the
  /// user-namespace one mounts in its storage) are done, so tests see no
  /// transient mount; the start-up benchmark times the socket alone. The
  /// default timeout is for a machine loaded by the whole test suite, where
  /// a restarted daemon's recovery (runc, CNI checks) can take 20 s.
  public func waitUntilReady(timeout: Duration = .seconds(60), settled: Bool = true) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
      if UnixSocket.isAnswering(socket) {
        if settled {
          try await CRIConnection.with(socket: socket) { cri in _ = try await cri.runtime.status(.init()) }
        }
        return
      }
      if let status = Processes.reap(pid) {
        throw DaemonProcessError("daemon exited with status \(status) before it was ready:\n\(log())")
      }
      try await Task.sleep(for: .milliseconds(1))
    }
    throw DaemonProcessError("daemon not ready after \(timeout):\n\(log())")
  }

  /// Sends `signal` and waits for the exit code (nil if it did not exit in time).
  @discardableResult
  public func stop(signal: Int32 = SIGTERM, timeout: Duration = .seconds(20)) async -> Int32? {
    kill(pid, signal)
    return await Processes.wait(pid, timeout: timeout)
  }

  /// Waits for the daemon to exit by itself.
  public func waitForExit(timeout: Duration = .seconds(20)) async -> Int32? {
    await Processes.wait(pid, timeout: timeout)
  }

  public func send(signal: Int32) {
    kill(pid, signal)
  }

  /// The daemon's stderr so far.
  public func log() -> String { (try? Files.read(logFile)) ?? "" }

  /// Kills the daemon if it still runs (a reaped pid is not signalled again),
  /// unmounts whatever it left mounted in its directory (pinned namespaces,
  /// shm) and removes the directory.
  public func cleanUp() async {
    if kill(pid, 0) == 0, Processes.reap(pid) == nil {
      kill(pid, SIGKILL)
      _ = await Processes.wait(pid, timeout: .seconds(10))
    }
    // Containers a failed test left running (conmon outlives the daemon).
    for container in (try? Files.list(directory + "/runc")) ?? [] {
      _ = try? await Processes.run(Self.runc, ["--root", directory + "/runc", "delete", "--force", container], timeout: .seconds(20))
    }
    // conmons and pod PID-namespace inits name this directory in their
    // arguments; none may outlive the test.
    let killed = processes().filter { $0 != getpid() }
    for process in killed { kill(process, SIGKILL) }
    for mountpoint in mounts().sorted(by: { $0.count > $1.count }) {
      umount2(mountpoint, Int32(MNT_DETACH))
    }
    // The cgroups of its pods and containers (conmon's, a pod monitor's,
    // runc's) outlive a killed daemon: its restart would remove them, but no
    // daemon comes back to this directory. Their processes go first.
    let ids = ["/run/pods", "/run/containers"].flatMap { (try? Files.list(directory + $0)) ?? [] }
    await Processes.waitForEnd(killed, timeout: .seconds(10))
    Self.removeCgroups(of: ids)
    Files.removeTree(directory)
  }

  /// `crio-<id>` and `crio-conmon-<id>` under the default parent (`/crio`)
  /// in every hierarchy, child cgroups first.
  static func removeCgroups(of ids: [String]) {
    guard !ids.isEmpty else { return }
    let hierarchies = ["/sys/fs/cgroup"] + ((try? Files.list("/sys/fs/cgroup")) ?? []).map { "/sys/fs/cgroup/" + $0 }
    for hierarchy in hierarchies where Files.kind(of: hierarchy + "/crio") == .directory {
      for id in ids {
        removeCgroupTree(hierarchy + "/crio/crio-" + id)
        removeCgroupTree(hierarchy + "/crio/crio-conmon-" + id)
      }
    }
  }

  private static func removeCgroupTree(_ path: String) {
    guard Files.kind(of: path) == .directory else { return }
    for name in (try? Files.list(path)) ?? [] where Files.kind(of: path + "/" + name) == .directory {
      removeCgroupTree(path + "/" + name)
    }
    rmdir(path)
  }

  public static let loopbackNetwork = #"{"cniVersion":"1.0.0","name":"loopback","plugins":[{"type":"loopback"}]}"#

  /// runc as the distribution installs it.
  public static var runcPath: String { runc }

  static var runc: String {
    ["/usr/sbin/runc", "/usr/bin/runc", "/usr/local/sbin/runc", "/usr/local/bin/runc"].first { Files.kind(of: $0) == .file } ?? "runc"
  }

  /// Processes other than the daemon that belong to it: those whose
  /// command line names the daemon's directory (conmons), and the init
  /// processes of the containers in its runc root that are still alive
  /// (pod inits name nothing of the host).
  public func processes() -> [pid_t] {
    let named: [pid_t] = Processes.commandLines().compactMap { process, arguments in
      process != pid && arguments.contains { $0.contains(directory + "/") } ? process : nil
    }
    let inits: [pid_t] = ((try? Files.list(directory + "/runc")) ?? []).compactMap { container in
      guard let state = try? Files.read(directory + "/runc/\(container)/state.json"),
        let key = state.firstRange(of: "\"init_process_pid\":"),
        let pid = pid_t(state[key.upperBound...].prefix { $0.isNumber }), pid > 0,
        Processes.isAlive(pid)
      else { return nil }
      return pid
    }
    return Array(Set(named + inits)).sorted()
  }

  /// Mount points under the daemon's directory.
  public func mounts() -> [String] {
    MountInfoEntry.current().map(\.mountPoint).filter { $0.hasPrefix(directory + "/") }
  }
}

public struct DaemonProcessError: Error, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}

/// Where the `crio` binary under test is: `CRIO_BINARY`, else next to the
/// running test or benchmark executable (both live in SwiftPM's products dir).
public enum CrioBinary {
  public static var path: String {
    if let override = getenv("CRIO_BINARY") { return String(cString: override) }
    let executable = Processes.currentExecutable() ?? "./crio"
    let dir = executable.lastIndex(of: "/").map { String(executable[..<$0]) } ?? "."
    return dir + "/crio"
  }
}
