import CMonitor
import MonitorWire

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A client of the monitor's socket: bytes in, answers out, both buffered
/// so that a slow or stalled client never blocks the loop.
final class Connection {
  let fd: Int32
  var input: [UInt8] = []
  var output: [UInt8] = []
  /// An answer is being prepared (an ExecSync runs): further requests wait.
  var busy = false
  /// Close once the output is flushed (the stream cannot be resynchronised).
  var closing = false

  init(fd: Int32) { self.fd = fd }
}

/// The pod monitor: one process per pod, serving `MonitorWire` requests on
/// its socket and holding every container of the pod as conmon holds one.
public final class Monitor {
  let options: MonitorOptions
  let loop = EventLoop()
  var containers: [String: Container] = [:]
  var containersByPID: [pid_t: Container] = [:]
  var execs: [pid_t: ExecSession] = [:]
  var streams: [pid_t: StreamingExec] = [:]
  /// runc commands in flight, by runc's PID.
  var commands: [pid_t: RuntimeCommand] = [:]
  /// Containers whose runc create is in flight.
  var creating: Set<String> = []
  /// Children reaped while a create was in flight that nobody claimed: one
  /// may be the new container's init, ended before its PID was known.
  var unclaimedExits: [pid_t: Int32] = [:]
  var connections: [Int32: Connection] = [:]
  let listener: Int32
  let signals: Int32
  /// Set by a shutdown request or SIGTERM: the loop ends once every
  /// container's exit is recorded.
  var shuttingDown = false
  var finished = false
  /// A bound on the shutdown, in case a container cannot be killed.
  var shutdownDeadline: Int64 = .max

  /// Listens on the socket in the pod's directory (replacing a stale one)
  /// and becomes the subreaper of what runc leaves behind.
  public init(options: MonitorOptions) throws(MonitorError) {
    self.options = options
    guard crio_monitor_set_subreaper() == 0 else { throw MonitorError("prctl(PR_SET_CHILD_SUBREAPER)") }
    var blocked: [Int32] = [SIGCHLD, SIGTERM, SIGINT]
    signals = crio_monitor_signalfd(&blocked, Int32(blocked.count))
    guard signals >= 0 else { throw MonitorError("signalfd") }
    signal(SIGPIPE, SIG_IGN)
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
    guard fd >= 0 else { throw MonitorError("socket") }
    unlink(options.directory + "/" + MonitorProtocol.socketName)
    // Only root may connect: the socket is made 0600 from the start.
    let previous = umask(0o177)
    let bound = SocketPath.withAddress(directory: options.directory, name: MonitorProtocol.socketName) { bind(fd, $0, $1) }
    umask(previous)
    guard bound == 0, listen(fd, 64) == 0 else {
      let error = MonitorError("listen on \(options.directory)/\(MonitorProtocol.socketName)")
      close(fd)
      throw error
    }
    listener = fd
    try ExitRecord.writeAtomically(options.directory + "/" + MonitorProtocol.pidFileName, Array(String(getpid()).utf8))
    loop.watch(listener) { [unowned self] _ in acceptClients() }
    loop.watch(signals) { [unowned self] _ in handleSignals() }
  }

  /// Serves until shut down; then removes its socket and pid file.
  public func run() {
    while !finished {
      loop.runOnce(timeout: nextTimeout())
      checkDeadlines()
    }
    unlink(options.directory + "/" + MonitorProtocol.socketName)
    unlink(options.directory + "/" + MonitorProtocol.pidFileName)
  }

  // MARK: - clients

  private func acceptClients() {
    while true {
      let fd = crio_monitor_accept(listener, Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue))
      guard fd >= 0 else { return }
      let connection = Connection(fd: fd)
      connections[fd] = connection
      loop.watch(fd) { [unowned self] events in serve(connection, events) }
    }
  }

  private func serve(_ connection: Connection, _ events: Int16) {
    if events & Int16(POLLOUT) != 0 { flush(connection) }
    guard isOpen(connection), events & Int16(POLLIN | POLLHUP | POLLERR) != 0 else { return }
    var chunk = [UInt8](repeating: 0, count: 64 << 10)
    let got = chunk.withUnsafeMutableBytes { read(connection.fd, $0.baseAddress, $0.count) }
    if got < 0 && (errno == EINTR || errno == EAGAIN) { return }
    guard got > 0 else { return drop(connection) }
    // Never more than one frame's worth is buffered.
    guard connection.input.count + got <= MonitorProtocol.maximumRequest + 4 else {
      return refuse(connection, .oversized(length: connection.input.count + got, limit: MonitorProtocol.maximumRequest))
    }
    connection.input += chunk[..<got]
    handleInput(connection)
  }

  /// Answers every whole request buffered, one at a time, in a loop (not
  /// by recursion: a client may pipeline a megabyte of tiny requests).
  func handleInput(_ connection: Connection) {
    // Consumed bytes go once at the end, not frame by frame (which would
    // move the rest of a large buffer for each tiny request).
    var consumed = 0
    defer { connection.input.removeFirst(min(consumed, connection.input.count)) }
    while !connection.busy, !connection.closing, connection.input.count - consumed >= 4 {
      let length: Int
      do {
        length = try Frame.length(header: Array(connection.input[consumed..<consumed + 4]), limit: MonitorProtocol.maximumRequest)
      } catch {
        return refuse(connection, error)
      }
      guard connection.input.count - consumed >= 4 + length else { return }
      let payload = Array(connection.input[(consumed + 4)..<(consumed + 4 + length)])
      consumed += 4 + length
      do {
        handle(try Frame.decodeRequest(payload), from: connection)
      } catch {
        // The frame was whole: the stream is still in step, the client may go on.
        answer(connection, .error(.badRequest, "bad request: \(error)"))
      }
    }
  }

  /// An answer to a frame that cannot be read, then the connection ends.
  private func refuse(_ connection: Connection, _ error: WireError) {
    connection.input = []
    answer(connection, .error(.badRequest, "bad request: \(error)"))
    connection.closing = true
    if connection.output.isEmpty { drop(connection) }
  }

  func answer(_ connection: Connection, _ response: MonitorResponse) {
    guard isOpen(connection) else { return }
    connection.busy = false
    connection.output += Frame.encode(response)
    flush(connection)
  }

  /// A late answer (an ExecSync's): requests that came meanwhile are served now.
  func answerLater(_ connection: Connection, _ response: MonitorResponse) {
    answer(connection, response)
    if isOpen(connection), !connection.closing { handleInput(connection) }
  }

  private func flush(_ connection: Connection) {
    while !connection.output.isEmpty {
      let written = connection.output.withUnsafeBytes { send(connection.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
      if written < 0 {
        if errno == EINTR { continue }
        if errno == EAGAIN { break }
        return drop(connection)
      }
      connection.output.removeFirst(written)
    }
    if connection.output.isEmpty && connection.closing { return drop(connection) }
    loop.setEvents(connection.fd, Int16(POLLIN) | (connection.output.isEmpty ? 0 : Int16(POLLOUT)))
  }

  private func drop(_ connection: Connection) {
    guard isOpen(connection) else { return }
    connections[connection.fd] = nil
    loop.unwatch(connection.fd)
    close(connection.fd)
  }

  /// Whether `connection` is still open: a late answer (an exec's) may find
  /// its client gone and the descriptor number given to another client.
  func isOpen(_ connection: Connection) -> Bool { connections[connection.fd] === connection }

  // MARK: - requests

  private func handle(_ request: MonitorRequest, from connection: Connection) {
    if shuttingDown, request != .hello, request != .shutdown {
      return answer(connection, .error(.shuttingDown, "the pod monitor of \(options.podID) is shutting down"))
    }
    switch request {
    case .hello:
      answer(connection, .hello(pid: getpid()))
    case .create(let create):
      do {
        try self.create(create, for: connection)
      } catch {
        answer(connection, .error(.failed, error.description))
      }
    case .start(let id):
      guard containers[id] != nil else { return answer(connection, notFound(id)) }
      do {
        try runRuntime(["start", id], id: id, operation: "start") { [unowned self] failure in
          answerLater(connection, failure.map { .error(.failed, $0.description) } ?? .ok)
        }
        connection.busy = true
      } catch {
        answer(connection, .error(.failed, error.description))
      }
    case .execSync(let id, let command, let timeout, let limit):
      guard let container = containers[id], container.waitStatus == nil else { return answer(connection, notFound(id)) }
      do {
        connection.busy = true
        try startExecSync(container, command: command, timeoutMilliseconds: timeout, outputLimit: Int(limit), for: connection)
      } catch {
        answer(connection, .error(.failed, error.description))
      }
    case .resize(let id, let width, let height):
      guard let container = containers[id] else { return answer(connection, notFound(id)) }
      answer(connection, container.resize(width: width, height: height) ? .ok : .error(.failed, "container \(id) has no terminal"))
    case .reopenLog(let id):
      guard let container = containers[id] else { return answer(connection, notFound(id)) }
      container.log.truncate()
      answer(connection, .ok)
    case .shutdown:
      answer(connection, .ok)
      beginShutdown()
    case .exec(let id, let command, let tty, let stdin):
      guard let container = containers[id], container.waitStatus == nil else { return answer(connection, notFound(id)) }
      do {
        try startStreamingExec(container, command: command, tty: tty, stdin: stdin, for: connection)
      } catch {
        answer(connection, .error(.failed, error.description))
      }
    }
  }

  private func notFound(_ id: String) -> MonitorResponse {
    .error(.notFound, "container \(id) is not running under the pod monitor of \(options.podID)")
  }

  // MARK: - signals, exits and shutdown

  private func handleSignals() {
    var info = signalfd_siginfo()
    var sawTerm = false
    while withUnsafeMutableBytes(of: &info, { read(signals, $0.baseAddress, $0.count) }) == MemoryLayout<signalfd_siginfo>.size {
      if info.ssi_signo == UInt32(SIGTERM) || info.ssi_signo == UInt32(SIGINT) { sawTerm = true }
    }
    reapChildren()
    if sawTerm { beginShutdown() }
  }

  /// Reaps every ended child: a container's init (its exit is recorded), a
  /// runc command or an exec's runc (its answer is sent), or anything else
  /// the subreaper inherited (just reaped).
  func reapChildren() {
    while true {
      var status: Int32 = 0
      let pid = waitpid(-1, &status, WNOHANG)
      guard pid > 0 else { return }
      if let container = containersByPID.removeValue(forKey: pid) {
        recordExit(container, status: status)
      } else if let exec = execs.removeValue(forKey: pid) {
        finish(exec, status: status)
      } else if let stream = streams.removeValue(forKey: pid) {
        finish(stream, status: status)
      } else if let command = commands.removeValue(forKey: pid) {
        finish(command, status: status)
      } else if !creating.isEmpty, unclaimedExits.count < 4096 {
        unclaimedExits[pid] = status
      }
    }
  }

  /// Kills every running container; the loop ends when their exits are recorded.
  private func beginShutdown() {
    guard !shuttingDown else { return }
    shuttingDown = true
    shutdownDeadline = Self.monotonicMilliseconds() + 10_000
    for container in containersByPID.values { kill(container.pid, SIGKILL) }
    for exec in execs.values { exec.kill() }
    for stream in streams.values { kill(stream.runc, SIGKILL) }
    // runc commands in flight are let finish (a runc create killed part-way
    // leaves its state and cgroups for others to clean): a container they
    // create is killed as it is taken on.
    finishShutdownIfDone()
  }

  func finishShutdownIfDone() {
    if shuttingDown && containersByPID.isEmpty && execs.isEmpty && streams.isEmpty && commands.isEmpty { finished = true }
  }

  private func nextTimeout() -> Int32 {
    let deadlines = execs.values.map(\.deadline) + commands.values.map(\.deadline) + (shuttingDown ? [shutdownDeadline] : [])
    guard let next = deadlines.min() else { return -1 }
    return Int32(clamping: max(0, next - Self.monotonicMilliseconds()))
  }

  private func checkDeadlines() {
    let now = Self.monotonicMilliseconds()
    for exec in execs.values where exec.deadline <= now && !exec.timedOut {
      exec.timedOut = true
      exec.kill()
    }
    for command in commands.values where command.deadline <= now && !command.timedOut {
      command.timedOut = true
      kill(command.pid, SIGKILL)
    }
    if shuttingDown && now >= shutdownDeadline {
      // No runc of this pod runs on after its monitor.
      for command in commands.values { kill(command.pid, SIGKILL) }
      finished = true
    }
  }

  static func monotonicMilliseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
  }
}
