import CMonitor
import Logging
import MonitorWire
import OCI
import Support
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Runs containers through one `crio-monitor` per pod (runtime_type
/// "pod", CRI-O's conmon-rs): the monitor runs `runc create`, `runc start`
/// and `runc exec` (ExecSync and streaming), holds the containers' stdio,
/// writes their logs and records their exits exactly as conmon does, so
/// the daemon's exit monitor and restart recovery work unchanged. Commands
/// that need no monitor (kill, delete, state, pause, update) run runc
/// directly, as `ConmonRuntime` does.
///
/// A container finds its monitor through `<bundle>/pod-monitor`, a link to
/// the pod's run directory, reached by ID through conmon's attach link
/// (`<attach dir>/<id>` → bundle), which the monitor keeps while it holds
/// the container.
public final class PodMonitorRuntime: ContainerRuntime {
  /// `conmonPath` is the monitor's executable (`monitor_path`).
  public let config: RuntimeHandlerConfig
  let runc: ConmonRuntime
  let logger: Logger
  /// The pods whose monitor this daemon watches (started or found again
  /// after a restart): a monitor that ends without being asked to is lost.
  private let watches = Mutex<[String: Task<Void, Never>]>([:])

  public init(config: RuntimeHandlerConfig, logger: Logger = Logger(label: "crio.runtime")) {
    self.config = config
    self.logger = logger
    runc = ConmonRuntime(config: config, logger: logger)
  }

  deinit {
    for task in watches.withLock({ $0.values }) { task.cancel() }
  }

  /// `crio-monitor` beside the running executable (crio, or a test).
  public static var defaultMonitorPath: String {
    let executable = Processes.currentExecutable() ?? "/usr/local/bin/crio"
    let directory = executable.lastIndex(of: "/").map { String(executable[..<$0]) } ?? "."
    return directory + "/crio-monitor"
  }

  public func layout(id: String, bundle: String) -> ContainerLayout { runc.layout(id: id, bundle: bundle) }

  func options(_ pod: PodRuntimeContext) -> MonitorOptions {
    var options = MonitorOptions(
      directory: pod.directory, podID: pod.id, runtime: config.runtimePath, runtimeRoot: config.runtimeRoot,
      exitsDirectory: config.exitsDir, attachDirectory: config.attachSocketDir)
    options.logSizeMax = config.logSizeMax
    options.noPivot = config.noPivot
    return options
  }

  /// The pod directory of container `id`'s monitor, through its attach link.
  private func monitorDirectory(of id: String) throws(RuntimeError) -> String {
    let link = layout(id: id, bundle: "").attachLink + "/pod-monitor"
    guard Files.kind(of: link) == .directory else { throw .notFound(id: id) }
    return link
  }

  // MARK: - pods

  /// Starts the pod's monitor and waits until it listens; it is moved into
  /// `monitor_cgroup` before any container is created under it.
  public func startPod(_ pod: PodRuntimeContext) async throws(RuntimeError) {
    for directory in [config.runtimeRoot, config.exitsDir, config.attachSocketDir] {
      do { try Files.makeDirectories(directory, mode: 0o700) } catch {
        throw .system(error, context: "creating runtime directory for pod \(pod.id)")
      }
    }
    let output = pod.directory + "/monitor.log"
    let (path, arguments, environment) = (config.conmonPath, options(pod).arguments, config.monitorEnvironment)
    let first: pid_t
    do {
      first = try await Blocking.spawn { () throws(SystemError) -> pid_t in
        try Processes.spawn(path, arguments, stdout: output, stderr: output, environment: environment)
      }
    } catch {
      throw .system(error, context: "starting the pod monitor \(path) for pod \(pod.id)")
    }
    // The first process exits once the monitor it forked listens.
    guard let status = await Processes.wait(first, timeout: config.createTimeout) else {
      Glibc.kill(first, SIGKILL)
      _ = await Processes.wait(first, timeout: .seconds(5))
      throw .timedOut(id: pod.id, operation: "starting the pod monitor", seconds: config.createTimeout.seconds)
    }
    guard status == 0 else {
      let said = RuncLog.trimmed((try? Files.read(output)) ?? "")
      throw .monitorFailed(id: pod.id, message: "the pod monitor exited with status \(status)" + (said.isEmpty ? "" : ": " + said))
    }
    let pid = try await hello(pod)
    if let cgroup = pod.monitorCgroup {
      // As for conmon: a monitor left outside its cgroup is a warning.
      do throws(CgroupError) {
        guard let layout = CgroupLayout.host else { throw .noCgroupFilesystem("none found at start") }
        try layout.place(pid: pid, inCgroup: cgroup)
      } catch {
        logger.warning("Cannot move the pod monitor into its cgroup", metadata: ["pod": "\(pod.id)", "cgroup": "\(cgroup)", "error": "\(error)"])
      }
    }
    watch(pod, pid: pid)
  }

  private func hello(_ pod: PodRuntimeContext) async throws(RuntimeError) -> pid_t {
    let response = try await PodMonitorCall.call(directory: pod.directory, .hello, timeout: .seconds(10), id: pod.id)
    guard case .hello(let pid) = response, pid > 0 else {
      throw .monitorFailed(id: pod.id, message: "unexpected answer to hello: \(response)")
    }
    return pid
  }

  /// Asks the monitor to end (it kills what still runs and records the
  /// exits), then makes sure it is gone.
  public func stopPod(_ pod: PodRuntimeContext) async {
    watches.withLock { $0.removeValue(forKey: pod.id) }?.cancel()
    let pid = try? await hello(pod)
    do {
      try PodMonitorCall.expectOK(
        await PodMonitorCall.call(directory: pod.directory, .shutdown, timeout: .seconds(15), id: pod.id), id: pod.id)
    } catch {
      if pid != nil { logger.warning("Cannot shut the pod monitor down", metadata: ["pod": "\(pod.id)", "error": "\(error)"]) }
    }
    if let pid, !(await Processes.waitForEnd(pid, timeout: .seconds(15))) {
      logger.warning("The pod monitor did not end; killing it", metadata: ["pod": "\(pod.id)", "pid": "\(pid)"])
      Glibc.kill(pid, SIGKILL)
      await Processes.waitForEnd(pid, timeout: .seconds(5))
    }
    // Whatever the monitor could not record (it was killed) is recorded now.
    await recordLostContainers(pod)
  }

  public func recoverPod(_ pod: PodRuntimeContext) async {
    do {
      watch(pod, pid: try await hello(pod))
    } catch {
      logger.warning(
        "The pod monitor is gone; its containers are killed and reported exited",
        metadata: ["pod": "\(pod.id)", "error": "\(error)"])
      await recordLostContainers(pod)
    }
  }

  /// Watches the monitor's end: one that dies unasked leaves its containers
  /// unmonitored, so they are killed and recorded as lost with it.
  private func watch(_ pod: PodRuntimeContext, pid: pid_t) {
    let task = Task { [weak self] in
      await Processes.waitForEnd(pid, timeout: nil)
      guard !Task.isCancelled, let self else { return }
      logger.warning("The pod monitor died; its containers are killed and reported exited", metadata: ["pod": "\(pod.id)", "pid": "\(pid)"])
      await recordLostContainers(pod)
    }
    watches.withLock { $0.updateValue(task, forKey: pod.id) }?.cancel()
  }

  /// Every container the pod's monitor held (its attach link still points
  /// to a bundle linked to the pod) that has no recorded exit: killed, its
  /// exit recorded as 137 with the lost-monitor marker, for the exit
  /// monitor to report.
  func recordLostContainers(_ pod: PodRuntimeContext) async {
    for id in (try? Files.list(config.attachSocketDir)) ?? [] {
      let link = config.attachSocketDir + "/" + id
      guard let bundle = Self.readLink(link), Self.readLink(bundle + "/pod-monitor") == pod.directory else { continue }
      let layout = layout(id: id, bundle: bundle)
      unlink(link)
      guard layout.recordedExit() == nil else { continue }
      try? await runc.kill(id: id, signal: SIGKILL)
      do {
        try Files.write(layout.monitorLostMarker, "")
        try Files.write(layout.exitFile + ".tmp", String(128 + SIGKILL))
        guard rename(layout.exitFile + ".tmp", layout.exitFile) == 0 else { throw SystemError("rename", path: layout.exitFile) }
      } catch {
        logger.error("Cannot record the exit of a container whose monitor died", metadata: ["id": "\(id)", "error": "\(error)"])
      }
    }
  }

  static func readLink(_ path: String) -> String? {
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    let count = readlink(path, &buffer, Int(PATH_MAX))
    guard count > 0 else { return nil }
    return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  // MARK: - containers

  public func create(_ request: CreateRequest) async throws(RuntimeError) -> ContainerProcess {
    let layout = request.layout
    let id = layout.id
    guard let pod = request.pod else {
      throw .monitorFailed(id: id, message: "no pod given: the pod monitor cannot be found")
    }
    let podDirectory = pod.directory
    unlink(layout.exitFile)
    unlink(layout.podMonitorLink)
    guard symlink(podDirectory, layout.podMonitorLink) == 0 else {
      throw .system(SystemError("symlink", path: layout.podMonitorLink), context: "creating container \(id)")
    }
    let create = CreateContainer(
      id: id, bundle: layout.bundle, logPath: request.logPath, terminal: request.terminal, stdin: request.stdin,
      stdinOnce: request.stdinOnce)
    let response: MonitorResponse
    do {
      do {
        response = try await PodMonitorCall.call(directory: podDirectory, .create(create), timeout: config.createTimeout, id: id)
      } catch .monitorUnreachable(_, let reason) {
        // The pod's monitor died before this request (its containers were
        // recorded as lost with it): the pod gets a new one rather than
        // refusing every container kubelet creates in it from now on.
        logger.warning("The pod monitor is gone; starting a new one", metadata: ["pod": "\(pod.id)", "reason": "\(reason)"])
        await stopPod(pod)
        try await startPod(pod)
        response = try await PodMonitorCall.call(directory: podDirectory, .create(create), timeout: config.createTimeout, id: id)
      }
    } catch .monitorDied(let id, let reason) {
      // It died during this one: the `runc create` it started lives on and
      // still holds the ID, so it is not tried again; what it makes goes.
      removeOrphanedCreate(id: id)
      throw .monitorDied(id: id, reason: reason)
    }
    switch response {
    case .created(let pid):
      let monitor = Files.kind(of: podDirectory + "/" + MonitorProtocol.pidFileName) == .file
        ? ConmonRuntime.readPid(podDirectory + "/" + MonitorProtocol.pidFileName) : nil
      return ContainerProcess(id: id, pid: pid, conmonPid: monitor)
    case .error(_, let message):
      throw .createFailed(id: id, message: message)
    default:
      throw .monitorFailed(id: id, message: "unexpected answer to create: \(response)")
    }
  }

  /// Deletes what a `runc create` left without its monitor makes: waits
  /// for that runc to end (killing it at the create timeout, the deadline
  /// the monitor would have kept), then `runc delete --force`s the ID. In
  /// the background: the create has failed already, and a hook may hold
  /// runc for minutes.
  private func removeOrphanedCreate(id: String) {
    let (config, runc, logger) = (self.config, self.runc, self.logger)
    let orphans = Self.runtimeCreates(of: id, config: config)
    Task {
      let deadline = ContinuousClock.now + config.createTimeout
      for pid in orphans where !(await Processes.waitForEnd(pid, timeout: deadline - .now)) {
        // Asked again: after minutes, the PID may be another process's.
        guard Self.runtimeCreates(of: id, config: config).contains(pid) else { continue }
        logger.warning("Killing a runc create whose pod monitor died", metadata: ["id": "\(id)", "pid": "\(pid)"])
        Glibc.kill(pid, SIGKILL)
        await Processes.waitForEnd(pid, timeout: .seconds(10))
      }
      do {
        try await runc.delete(id: id, force: true)
      } catch {
        logger.warning("Cannot delete a container whose pod monitor died during its create", metadata: ["id": "\(id)", "error": "\(error)"])
      }
    }
  }

  /// The `runc --root <runtime root> ... create ... <id>` processes running.
  static func runtimeCreates(of id: String, config: RuntimeHandlerConfig) -> [pid_t] {
    Processes.commandLines().filter { _, arguments in
      arguments.first == config.runtimePath && arguments.last == id && arguments.contains("create")
        && arguments.firstIndex(of: "--root").map { $0 + 1 < arguments.count && arguments[$0 + 1] == config.runtimeRoot } == true
    }.map(\.pid)
  }

  public func start(id: String) async throws(RuntimeError) {
    let directory = try monitorDirectory(of: id)
    try PodMonitorCall.expectOK(await PodMonitorCall.call(directory: directory, .start(id: id), timeout: config.commandTimeout, id: id), id: id)
  }

  public func execSync(id: String, command: [String], timeout: Duration) async throws(RuntimeError) -> ExecResult {
    let directory = try monitorDirectory(of: id)
    let milliseconds = timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000
    let limit = ExecOutput.maximumBytes
    let request = MonitorRequest.execSync(id: id, command: command, timeoutMilliseconds: max(0, milliseconds), outputLimit: UInt32(limit))
    // The monitor enforces the command's timeout; this one only guards
    // against a monitor that stopped answering (none for no timeout).
    let wait = timeout > .zero ? timeout + config.commandTimeout : .seconds(Int64(Int32.max))
    let response = try await PodMonitorCall.call(directory: directory, request, timeout: wait, id: id)
    switch response {
    case .execSync(let code, let stdout, let stderr, let timedOut):
      guard timedOut else { return ExecResult(exitCode: code, stdout: stdout, stderr: stderr, timedOut: false) }
      let message = Array(ExecResult.timedOutMessage.utf8)
      return ExecResult(exitCode: -1, stdout: Array(stdout.prefix(limit - message.count)), stderr: message, timedOut: true)
    case .error(.notFound, _): throw .notFound(id: id)
    case .error(_, let message): throw .monitorFailed(id: id, message: message)
    default: throw .monitorFailed(id: id, message: "unexpected answer to exec: \(response)")
    }
  }

  /// Resizes and log reopening, answered at once by the monitor.
  public func control(_ layout: ContainerLayout, _ request: ConmonControl.Request) throws(RuntimeError) {
    let message: MonitorRequest
    switch request {
    case .resize(let width, let height): message = .resize(id: layout.id, width: width, height: height)
    case .reopenLog: message = .reopenLog(id: layout.id)
    }
    let response: MonitorResponse
    do { response = try MonitorClient.call(directory: layout.podMonitorLink, message, timeoutSeconds: 10) } catch {
      throw .monitorUnreachable(id: layout.id, reason: error.description)
    }
    try PodMonitorCall.expectOK(response, id: layout.id)
  }

  // MARK: - waiting for exits (for direct users, as ConmonRuntime's)

  public func exitCode(id: String) -> Int32? { runc.exitCode(id: id) }

  public func waitForExit(id: String, timeout: Duration) async -> Int32? { await runc.waitForExit(id: id, timeout: timeout) }

  public func stop(id: String, timeout: Duration, signal: Int32 = SIGTERM) async throws(RuntimeError) -> Int32 {
    try await runc.stop(id: id, timeout: timeout, signal: signal)
  }

  // MARK: - runc alone

  public func kill(id: String, signal: Int32) async throws(RuntimeError) { try await runc.kill(id: id, signal: signal) }
  public func delete(id: String, force: Bool) async throws(RuntimeError) { try await runc.delete(id: id, force: force) }
  public func state(id: String) async throws(RuntimeError) -> RuntimeState { try await runc.state(id: id) }
  public func containerIDs() -> [String] { runc.containerIDs() }
  public func update(id: String, resources: Spec.Resources) async throws(RuntimeError) { try await runc.update(id: id, resources: resources) }
  public func pause(id: String) async throws(RuntimeError) { try await runc.pause(id: id) }
  public func resume(id: String) async throws(RuntimeError) { try await runc.resume(id: id) }

  /// Streaming exec: the monitor runs runc exec and hands over the
  /// command's pipes or terminal with its answer (they go straight to the
  /// streaming server), then sends the exit code on the same connection.
  /// Brief and blocking, as the seam's startExec is: the monitor answers
  /// once runc is spawned.
  public func startExec(id: String, command: [String], tty: Bool, stdin: Bool) throws(RuntimeError) -> ExecSession {
    guard !command.isEmpty else { throw .runtimeFailed(id: id, operation: "exec", status: -1, stderr: "empty command") }
    let directory = try monitorDirectory(of: id)
    let fd: Int32
    do { fd = try MonitorClient.connect(directory: directory) } catch {
      throw .monitorUnreachable(id: id, reason: error.description)
    }
    var handedOver = false
    defer { if !handedOver { close(fd) } }
    var timeout = timeval(tv_sec: Int(config.commandTimeout.seconds), tv_usec: 0)
    _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    do { try SocketIO.writeAll(fd, Frame.encode(.exec(id: id, command: command, tty: tty, stdin: stdin))) } catch {
      throw .monitorUnreachable(id: id, reason: "sending the exec request: \(SystemError(operation: "send", path: nil, code: error.code))")
    }
    // The descriptors come with the answer's first bytes: its header is
    // read with them, then the rest of this answer alone.
    var header = [UInt8](repeating: 0, count: 4)
    var fds: [Int32] = [-1, -1, -1]
    var count: Int32 = 0
    let got = header.withUnsafeMutableBytes { bytes in
      fds.withUnsafeMutableBufferPointer { crio_monitor_receive_fds(fd, bytes.baseAddress, 4, $0.baseAddress, 3, &count) }
    }
    let passed = Array(fds[..<Int(count)])
    var keep = false
    defer { if !keep { for descriptor in passed { close(descriptor) } } }
    guard got > 0 else { throw .monitorUnreachable(id: id, reason: "no answer to the exec request") }
    let response: MonitorResponse
    do {
      if got < 4 { header = Array(header[..<got]) + (try SocketIO.readExactly(fd, 4 - got)) }
      let length = try Frame.length(header: header, limit: MonitorProtocol.maximumRequest)
      response = try Frame.decodeResponse(try SocketIO.readExactly(fd, length))
    } catch {
      throw .monitorFailed(id: id, message: "unreadable answer to the exec request: \(error)")
    }
    switch response {
    case .execStarted(let runc, let pidFile):
      let expected = tty ? 1 : stdin ? 3 : 2
      guard passed.count == expected else {
        throw .monitorFailed(id: id, message: "the exec's answer carried \(passed.count) descriptors, not \(expected)")
      }
      keep = true
      handedOver = true
      let directory = String(pidFile.dropLast("/pid".count))
      var session: ExecSession
      if tty {
        session = ExecSession(runc: runc, stdin: dup(passed[0]), stdout: dup(passed[0]), stderr: nil, terminal: passed[0], directory: directory)
      } else {
        session = ExecSession(runc: runc, stdin: stdin ? passed[2] : nil, stdout: passed[0], stderr: passed[1], terminal: nil, directory: directory)
      }
      session.monitor = fd
      return session
    case .error(.notFound, _): throw .notFound(id: id)
    case .error(_, let message): throw .monitorFailed(id: id, message: message)
    default: throw .monitorFailed(id: id, message: "unexpected answer to exec: \(response)")
    }
  }

  public func runUnmonitored(id: String, bundle: OCIBundle) async throws(RuntimeError) -> Int32 {
    try await runc.runUnmonitored(id: id, bundle: bundle)
  }
}
