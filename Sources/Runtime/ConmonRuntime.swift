import FoundationEssentials
import Logging
import OCI
import Support

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Where one runtime handler's programs and state live.
public struct RuntimeHandlerConfig: Sendable, Hashable {
  /// The OCI runtime binary (runc).
  public var runtimePath: String
  /// runc's `--root`: its state directory for this handler.
  public var runtimeRoot: String
  public var conmonPath: String
  /// conmon writes `<exitsDir>/<id>` holding the exit code when a container ends.
  public var exitsDir: String
  /// conmon's attach sockets.
  public var attachSocketDir: String
  /// conmon's `--log-size-max`; negative for no limit.
  public var logSizeMax: Int64
  /// conmon's `--log-level`.
  public var conmonLogLevel: String
  /// How long `create` waits for conmon to report `runc create`'s result.
  public var createTimeout: Duration
  /// How long other runc commands (start, kill, state, delete) may take.
  public var commandTimeout: Duration
  /// `monitor_env`: conmon's whole environment besides its pipes (CRI-O's `cmd.Env`).
  public var monitorEnvironment: [String] = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
  /// `no_pivot`: conmon tells runc to move the root with MS_MOVE instead of pivot_root.
  public var noPivot = false
  /// `log_to_journald`: conmon also writes container output to journald.
  public var logToJournald = false
  /// `ctr_stop_timeout`: how long a stop waits for a SIGKILLed container to be
  /// reported gone before it gives up with an error.
  public var killWaitTimeout: Duration = .seconds(30)

  public init(
    runtimePath: String, runtimeRoot: String, conmonPath: String = "/usr/bin/conmon", exitsDir: String,
    attachSocketDir: String, logSizeMax: Int64 = -1, conmonLogLevel: String = "info",
    createTimeout: Duration = .seconds(240), commandTimeout: Duration = .seconds(60)
  ) {
    self.runtimePath = runtimePath
    self.runtimeRoot = runtimeRoot
    self.conmonPath = conmonPath
    self.exitsDir = exitsDir
    self.attachSocketDir = attachSocketDir
    self.logSizeMax = logSizeMax
    self.conmonLogLevel = conmonLogLevel
    self.createTimeout = createTimeout
    self.commandTimeout = commandTimeout
  }
}

/// A container that `runc create` made, held by its conmon.
public struct ContainerProcess: Sendable, Hashable {
  public let id: String
  /// The container's init process (host pid namespace).
  public let pid: Int32
  /// The daemonized conmon monitoring it, if its pid file could be read.
  public let conmonPid: Int32?

  public init(id: String, pid: Int32, conmonPid: Int32?) {
    self.id = id
    self.pid = pid
    self.conmonPid = conmonPid
  }
}

/// What `runc state` says about a container.
public struct RuntimeState: Sendable, Hashable, Decodable {
  public enum Status: String, Sendable, Hashable, Decodable {
    case creating, created, running, paused, stopped
  }

  public let id: String
  public let status: Status
  /// 0 once the container has stopped.
  public let pid: Int32
  public let bundle: String?
}

/// The result of `execSync`.
public struct ExecResult: Sendable, Hashable {
  /// The command's exit code (128 + n when killed by signal n); -1 when it timed out.
  public let exitCode: Int32
  public let stdout: [UInt8]
  public let stderr: [UInt8]
  public let timedOut: Bool

  public init(exitCode: Int32, stdout: [UInt8], stderr: [UInt8], timedOut: Bool) {
    self.exitCode = exitCode
    self.stdout = stdout
    self.stderr = stderr
    self.timedOut = timedOut
  }

  public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
  public var stderrText: String { String(decoding: stderr, as: UTF8.self) }

  /// What CRI-O puts in stderr when an exec sync times out.
  public static let timedOutMessage = "command timed out"

}

/// Runs containers with conmon and an OCI runtime (runc) the way CRI-O does.
/// One instance per runtime handler. It holds no per-container state: conmon
/// is daemonized and outlives this object, and everything is found again from
/// the runtime root, the exits directory and the bundle.
public final class ConmonRuntime: ContainerRuntime {
  public let config: RuntimeHandlerConfig
  let logger: Logger

  public init(config: RuntimeHandlerConfig, logger: Logger = Logger(label: "crio.runtime")) {
    self.config = config
    self.logger = logger
  }

  public func layout(id: String, bundle: String) -> ContainerLayout {
    ContainerLayout(id: id, bundle: bundle, exitsDirectory: config.exitsDir, attachDirectory: config.attachSocketDir)
  }

  /// `runc --root <root>` plus `arguments`.
  func runtimeArguments(_ arguments: [String]) -> [String] {
    ["--root", config.runtimeRoot] + arguments
  }

  /// conmon's command line for creating a container (CRI-O's createContainer).
  public func conmonArguments(_ request: CreateRequest) -> [String] {
    let layout = request.layout
    var args = [
      "-b", layout.bundle,
      "-c", layout.id,
      "--exit-dir", config.exitsDir,
      "-l", "k8s-file:" + request.logPath,
      "--log-level", config.conmonLogLevel,
      "-n", request.name,
      "-P", layout.monitorPidFile,
      // conmon writes its "oom" marker here (else into its working directory).
      "--persist-dir", layout.bundle,
      "-p", layout.pidFile,
      "-r", config.runtimePath,
      "--runtime-arg", "--root=" + config.runtimeRoot,
      "--socket-dir-path", config.attachSocketDir,
      "-u", layout.id,
    ]
    if config.logSizeMax >= 0 {
      args += ["--log-size-max", String(config.logSizeMax)]
    }
    if config.logToJournald {
      args += ["--log-path", "journald:"]
    }
    if config.noPivot {
      args.append("--no-pivot")
    }
    if request.terminal {
      args.append("-t")
    } else if request.stdin {
      if !request.stdinOnce { args.append("--leave-stdin-open") }
      args.append("-i")
    }
    return args
  }

  // MARK: - create

  /// Starts conmon, which runs `runc create`; returns once runc has created the
  /// container (its process waits in runc init for `start`). On failure nothing
  /// is left behind: no runc state, no conmon, no exit file.
  public func create(_ request: CreateRequest) async throws(RuntimeError) -> ContainerProcess {
    let layout = request.layout
    let id = layout.id
    for directory in [config.runtimeRoot, config.exitsDir, config.attachSocketDir] {
      do { try Files.makeDirectories(directory, mode: 0o700) } catch {
        throw .system(error, context: "creating runtime directory for container \(id)")
      }
    }
    unlink(layout.exitFile)
    unlink(layout.monitorOutput)

    // Sync pipe: conmon writes the result; start pipe: we tell conmon to go on.
    var sync: [Int32] = [-1, -1]
    var start: [Int32] = [-1, -1]
    // Socket pairs as CRI-O uses: created close-on-exec atomically, so a
    // child spawned meanwhile by another thread cannot inherit them.
    let socketType = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
    guard socketpair(AF_UNIX, socketType, 0, &sync) == 0 else {
      throw .system(SystemError("socketpair"), context: "creating container \(id)")
    }
    guard socketpair(AF_UNIX, socketType, 0, &start) == 0 else {
      let error = SystemError("socketpair")
      close(sync[0])
      close(sync[1])
      throw .system(error, context: "creating container \(id)")
    }
    let syncRead = sync[0]
    let startWrite = start[1]
    defer {
      close(syncRead)
      close(startWrite)
    }

    // As CRI-O: the handler's monitor_env, nothing of the daemon's own environment.
    let environment = ["CRI_O_EXTERNAL=1", "_OCI_SYNCPIPE=3", "_OCI_STARTPIPE=4"] + config.monitorEnvironment
    let arguments = conmonArguments(request)
    logger.debug("running conmon", metadata: ["id": "\(id)", "args": "\(arguments)"])

    let conmon: pid_t
    do {
      // Spawning blocks the thread until conmon has exec'd: off the cooperative pool.
      let (conmonPath, syncEnd, startEnd, environment) = (config.conmonPath, sync[1], start[0], environment)
      conmon = try await Blocking.spawn { () throws(SystemError) in
        try Processes.spawn(
          conmonPath, arguments, stdout: layout.monitorOutput, stderr: layout.monitorOutput,
          // conmon writes some files (its "oom" marker) relative to its
          // working directory, which CRI-O sets to the bundle.
          environment: environment, passing: [(syncEnd, 3), (startEnd, 4)], workingDirectory: layout.bundle)
      }
    } catch {
      close(sync[1])
      close(start[0])
      throw .system(error, context: "starting conmon for container \(id)")
    }
    close(sync[1])
    close(start[0])

    // conmon goes into its cgroup before it forks runc, so all of it is
    // accounted there; as CRI-O on cgroupfs, a failure is a warning, not a
    // failed container.
    if let cgroup = request.monitorCgroup {
      do throws(CgroupError) {
        guard let layout = CgroupLayout.host else { throw .noCgroupFilesystem("none found at start") }
        try layout.place(pid: conmon, inCgroup: cgroup)
      } catch {
        logger.warning("Cannot move conmon into its cgroup", metadata: ["id": "\(id)", "cgroup": "\(cgroup)", "error": "\(error)"])
      }
    }
    var go: [UInt8] = [0]
    let written = go.withUnsafeMutableBytes { write(startWrite, $0.baseAddress, 1) }
    guard written == 1 else {
      let error = SystemError("write start pipe")
      Glibc.kill(conmon, SIGKILL)
      _ = await Processes.wait(conmon, timeout: .seconds(10))
      throw .system(error, context: "starting conmon for container \(id)")
    }

    // conmon forks (daemonizes) and its first process exits.
    guard let status = await Processes.wait(conmon, timeout: config.createTimeout) else {
      Glibc.kill(conmon, SIGKILL)
      _ = await Processes.wait(conmon, timeout: .seconds(10))
      await cleanUpFailedCreate(layout)
      throw .timedOut(id: id, operation: "conmon start", seconds: config.createTimeout.seconds)
    }
    guard status == 0 else {
      let output = ((try? Files.read(layout.monitorOutput)) ?? "").trimmed
      await cleanUpFailedCreate(layout)
      throw .conmonFailed(id: id, reason: "conmon exited with status \(status)", output: output)
    }

    let line: String
    do {
      line = try await readLine(syncRead, timeout: config.createTimeout)
    } catch {
      await cleanUpFailedCreate(layout)
      switch error {
      case .timedOut: throw .timedOut(id: id, operation: "container create", seconds: config.createTimeout.seconds)
      default:
        let output = ((try? Files.read(layout.monitorOutput)) ?? "").trimmed
        throw .conmonFailed(id: id, reason: "\(error)", output: output)
      }
    }
    let report = SyncReport.parse(line)
    guard let pid = report?.pid, pid > 0 else {
      await cleanUpFailedCreate(layout)
      let message = report?.message ?? ""
      if message.isEmpty {
        let output = ((try? Files.read(layout.monitorOutput)) ?? "").trimmed
        throw .conmonFailed(id: id, reason: "conmon reported no container pid (\(line.trimmed))", output: output)
      }
      throw .createFailed(id: id, message: message.trimmed)
    }
    return ContainerProcess(id: id, pid: pid, conmonPid: Self.readPid(layout.monitorPidFile))
  }

  /// conmon's sync-pipe message: `{"pid": N}` (API version 0) or `{"data": N}`,
  /// with `"message"` when runc failed.
  struct SyncReport: Decodable {
    var pid: Int32?
    var data: Int32?
    var message: String?

    static func parse(_ line: String) -> (pid: Int32, message: String?)? {
      guard let report = try? JSONDecoder().decode(SyncReport.self, from: Data(line.utf8)),
        let pid = report.pid ?? report.data
      else { return nil }
      return (pid, report.message)
    }
  }

  /// Reads one line (or up to end of file), waiting for the kernel to say
  /// the pipe is readable rather than holding a thread.
  private func readLine(_ fd: Int32, timeout: Duration) async throws(RuntimeError) -> String {
    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    let deadline = ContinuousClock.now + timeout
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
      let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      if n > 0 {
        bytes += chunk[..<n]
        if bytes.contains(UInt8(ascii: "\n")) { break }
        continue
      }
      if n == 0 { break }
      if errno == EINTR { continue }
      guard errno == EAGAIN || errno == EWOULDBLOCK else {
        throw .system(SystemError("read sync pipe"), context: "reading conmon's report")
      }
      guard await Readiness.shared.waitReadable(fd, timeout: deadline - ContinuousClock.now) else {
        throw .timedOut(id: "", operation: "reading conmon's report", seconds: timeout.seconds)
      }
    }
    let line = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true).first ?? []
    guard !line.isEmpty else {
      throw .system(SystemError(operation: "read sync pipe", path: nil, code: EPIPE), context: "conmon closed the sync pipe without a report")
    }
    return String(decoding: line, as: UTF8.self)
  }

  private func cleanUpFailedCreate(_ layout: ContainerLayout) async {
    if let conmon = Self.readPid(layout.monitorPidFile) {
      if !(await Processes.waitForEnd(conmon, timeout: .seconds(5))) { Glibc.kill(conmon, SIGKILL) }
    }
    _ = try? await runRuntime(id: layout.id, operation: "delete", ["delete", "--force", layout.id])
    unlink(layout.exitFile)
  }

  static func readPid(_ path: String) -> Int32? {
    guard let text = try? Files.read(path), let pid = Int32(text.trimmed), pid > 0 else { return nil }
    return pid
  }

  // MARK: - runc commands

  /// Runs runc; a non-zero exit becomes `.notFound` or `.runtimeFailed`.
  @discardableResult
  func runRuntime(id: String, operation: String, _ arguments: [String]) async throws(RuntimeError) -> String {
    let result: (status: Int32, stdout: String, stderr: String)
    do {
      result = try await Processes.run(config.runtimePath, runtimeArguments(arguments), timeout: config.commandTimeout)
    } catch {
      if error.code == ETIMEDOUT {
        throw .timedOut(id: id, operation: "runtime " + operation, seconds: config.commandTimeout.seconds)
      }
      throw .system(error, context: "running the runtime for \(operation) of container \(id)")
    }
    guard result.status == 0 else {
      let stderr = result.stderr.trimmed
      if stderr.contains("does not exist") || stderr.contains("container not found") { throw .notFound(id: id) }
      throw .runtimeFailed(id: id, operation: operation, status: result.status, stderr: stderr)
    }
    return result.stdout
  }

  /// `runc start`: runs the created container's process.
  public func start(id: String) async throws(RuntimeError) {
    try await runRuntime(id: id, operation: "start", ["start", id])
  }

  /// `runc kill`: sends `signal` to the container's init process.
  public func kill(id: String, signal: Int32) async throws(RuntimeError) {
    try await runRuntime(id: id, operation: "kill", ["kill", id, String(signal)])
  }

  /// `runc pause`.
  public func pause(id: String) async throws(RuntimeError) {
    try await runRuntime(id: id, operation: "pause", ["pause", id])
  }

  /// `runc resume`.
  public func resume(id: String) async throws(RuntimeError) {
    try await runRuntime(id: id, operation: "resume", ["resume", id])
  }

  /// `runc delete`; with `force`, kills a running container first, and a
  /// container runc does not know is not an error.
  public func delete(id: String, force: Bool = false) async throws(RuntimeError) {
    do {
      try await runRuntime(id: id, operation: "delete", force ? ["delete", "--force", id] : ["delete", id])
    } catch .notFound(let missing) where force {
      _ = missing
    }
  }

  /// `runc state`.
  public func state(id: String) async throws(RuntimeError) -> RuntimeState {
    let output = try await runRuntime(id: id, operation: "state", ["state", id])
    do {
      return try JSONDecoder().decode(RuntimeState.self, from: Data(output.utf8))
    } catch {
      throw .invalidOutput(id: id, operation: "state", output: output.trimmed)
    }
  }

  /// runc keeps a directory per container under its root.
  public func containerIDs() -> [String] {
    ((try? Files.list(config.runtimeRoot)) ?? []).filter { Files.kind(of: config.runtimeRoot + "/" + $0) == .directory }
  }

  public func control(_ layout: ContainerLayout, _ request: ConmonControl.Request) throws(RuntimeError) {
    try ConmonControl.send(request, fifo: layout.controlFIFO)
  }

  // MARK: - waiting for exits (for direct users; the daemon's exit monitor does this for it)

  /// The exit code conmon recorded (128 + n after signal n), or nil while the
  /// container has not ended.
  public func exitCode(id: String) -> Int32? {
    layout(id: id, bundle: "").recordedExit()?.code
  }

  /// Waits for conmon's exit file to appear; nil if it did not within `timeout`.
  public func waitForExit(id: String, timeout: Duration) async -> Int32? {
    guard let watch = try? DirectoryWatch(config.exitsDir) else { return exitCode(id: id) }
    if let code = exitCode(id: id) { return code }
    _ = await watch.waitFor(timeout: timeout) { [self] name in (name == nil || name == id) && exitCode(id: id) != nil }
    return exitCode(id: id)
  }

  /// Sends `signal`, waits up to `timeout` for the container to end, then
  /// SIGKILLs it; returns the exit code. A container that already ended
  /// returns its code at once.
  public func stop(id: String, timeout: Duration, signal: Int32 = SIGTERM) async throws(RuntimeError) -> Int32 {
    if let code = exitCode(id: id) { return code }
    if timeout > .zero {
      do {
        try await kill(id: id, signal: signal)
      } catch .notFound(let missing) {
        throw .notFound(id: missing)
      } catch {
        // It may have ended meanwhile ("container not running"); the exit file decides.
        logger.debug("stop signal failed", metadata: ["id": "\(id)", "error": "\(error)"])
      }
      if let code = await waitForExit(id: id, timeout: timeout) { return code }
    }
    do {
      try await kill(id: id, signal: SIGKILL)
    } catch {
      if let code = exitCode(id: id) { return code }
      if case .notFound = error { throw error }
      logger.debug("SIGKILL failed", metadata: ["id": "\(id)", "error": "\(error)"])
    }
    if let code = await waitForExit(id: id, timeout: config.killWaitTimeout) { return code }
    throw .timedOut(id: id, operation: "stop", seconds: (timeout + config.killWaitTimeout).seconds)
  }
}

