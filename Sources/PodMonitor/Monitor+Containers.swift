import CMonitor
import MonitorWire

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What a create holds while its `runc create` runs: the monitor's ends of
/// the container's stdio (or the console socket runc will hand the
/// terminal's master over), and its log.
struct PendingCreate {
  let request: CreateContainer
  let connection: Connection
  var log: CRILog
  var stdout: Int32 = -1
  var stderr: Int32 = -1
  var stdin: Int32 = -1
  var console: Int32 = -1
  var consoleDirectory: String?
}

extension Monitor {
  // MARK: - create

  /// Starts `runc create` with the container's stdio held here: pipes, or
  /// the terminal runc hands over on a console socket. The answer (the
  /// init's PID) goes to `connection` when runc has ended. On failure
  /// nothing is left: no runc state, no descriptors, no files.
  func create(_ request: CreateContainer, for connection: Connection) throws(MonitorError) {
    guard containers[request.id] == nil, !creating.contains(request.id) else {
      throw MonitorError(message: "container \(request.id) already exists in this pod monitor")
    }
    var pending = PendingCreate(request: request, connection: connection, log: try CRILog(path: request.logPath, sizeLimit: options.logSizeMax))
    // The container's ends: runc passes them on, the monitor closes its copies.
    var theirs: [Int32] = []
    defer { for fd in theirs { close(fd) } }
    var arguments = ["create", "--bundle", request.bundle, "--pid-file", request.bundle + "/pidfile"]
    if options.noPivot { arguments.append("--no-pivot") }
    do throws(MonitorError) {
      let null = open("/dev/null", O_RDWR | O_CLOEXEC)
      guard null >= 0 else { throw MonitorError("open /dev/null") }
      theirs.append(null)
      var stdio = (null, null, null)
      if request.terminal {
        let (directory, fd) = try consoleSocket()
        pending.consoleDirectory = directory
        pending.console = fd
        arguments += ["--console-socket", directory + "/console"]
      } else {
        let out = try Spawn.pipe()
        theirs.append(out.write)
        pending.stdout = out.read
        let err = try Spawn.pipe()
        theirs.append(err.write)
        pending.stderr = err.read
        stdio.1 = out.write
        stdio.2 = err.write
        if request.stdin {
          let input = try Spawn.pipe()
          theirs.append(input.read)
          pending.stdin = input.write
          stdio.0 = input.read
        }
      }
      arguments.append(request.id)
      try runRuntime(arguments, id: request.id, operation: "create", stdio: stdio) { [unowned self] failure in
        finishCreate(pending, failure)
      }
    } catch {
      release(pending)
      throw error
    }
    creating.insert(request.id)
    connection.busy = true
  }

  /// runc create ended: the container is taken on, or everything undone.
  private func finishCreate(_ pending: PendingCreate, _ failure: MonitorError?) {
    let request = pending.request
    creating.remove(request.id)
    // Exits kept for creates in flight are wanted by no one once none is.
    defer { if creating.isEmpty { unclaimedExits = [:] } }
    if let failure {
      release(pending)
      return answerLater(pending.connection, .error(.failed, failure.description))
    }
    var held = pending
    do throws(MonitorError) {
      if request.terminal {
        // runc sent the master before it exited: it is queued on the socket.
        let connection = crio_monitor_accept(pending.console, Int32(SOCK_CLOEXEC.rawValue))
        guard connection >= 0 else { throw MonitorError("accept on the console socket") }
        let master = crio_monitor_receive_fd(connection)
        let error = MonitorError("receive the terminal from runc")
        close(connection)
        guard master >= 0 else { throw error }
        held.stdout = master
        held.stdin = request.stdin ? master : -1
      }
      closeConsole(&held)
      guard let text = readText(request.bundle + "/pidfile"), let pid = pid_t(RuncLog.trimmed(text)), pid > 0 else {
        throw MonitorError(message: "runc wrote no pid file for container \(request.id)")
      }
      let container = Container(
        id: request.id, bundle: request.bundle, pid: pid, terminal: request.terminal,
        leaveStdinOpen: request.stdin && !request.stdinOnce, log: held.log,
        stdout: held.stdout, stderr: held.stderr, stdin: held.stdin, attachLink: options.attachDirectory + "/" + request.id)
      try listenForAttach(container)
      register(container)
      // The pod is being stopped: it goes the way of the others.
      if shuttingDown && container.waitStatus == nil { kill(pid, SIGKILL) }
      answerLater(pending.connection, .created(pid: pid))
    } catch {
      release(held)
      unlink(options.attachDirectory + "/" + request.id)
      // runc made a container the monitor cannot hold: it goes before the answer.
      let deleted: (MonitorError?) -> Void = { [unowned self] _ in answerLater(pending.connection, .error(.failed, error.description)) }
      do { try runRuntime(["delete", "--force", request.id], id: request.id, operation: "delete", then: deleted) } catch { deleted(error) }
    }
  }

  /// Closes what a create that did not come to be held.
  private func release(_ pending: PendingCreate) {
    var pending = pending
    for fd in [pending.stdout, pending.stderr] where fd >= 0 { close(fd) }
    if pending.stdin >= 0 && pending.stdin != pending.stdout { close(pending.stdin) }
    closeConsole(&pending)
    pending.log.close()
  }

  private func closeConsole(_ pending: inout PendingCreate) {
    if pending.console >= 0 { close(pending.console) }
    pending.console = -1
    if let directory = pending.consoleDirectory { removeConsoleDirectory(directory) }
    pending.consoleDirectory = nil
  }

  private func register(_ container: Container) {
    containers[container.id] = container
    containersByPID[container.pid] = container
    for (fd, stream) in [(container.stdout, CRILog.Stream.stdout), (container.stderr, .stderr)] where fd >= 0 {
      Spawn.setNonBlocking(fd)
      loop.watch(fd) { [unowned self, unowned container] _ in
        if container.readOutput(fd, stream) == .end { closeOutput(container, fd) }
        closeGoneClients(container)
      }
    }
    if container.stdin >= 0 { Spawn.setNonBlocking(container.stdin) }
    loop.watch(container.attachListener) { [unowned self, unowned container] _ in acceptAttach(container) }
    // Its init may have ended, and been reaped, before runc create was.
    if let status = unclaimedExits.removeValue(forKey: container.pid) {
      containersByPID[container.pid] = nil
      recordExit(container, status: status)
    }
  }

  /// Attach clients whose connection failed are let go (not at the
  /// container's end only: a long-lived container sees many sessions).
  private func closeGoneClients(_ container: Container) {
    for client in container.goneClients {
      loop.unwatch(client)
      close(client)
    }
    container.goneClients = []
  }

  private func closeOutput(_ container: Container, _ fd: Int32) {
    loop.unwatch(fd)
    if fd == container.stdout {
      container.stdout = -1
      // The terminal's master was also its stdin.
      if container.terminal { container.stdin = -1 }
    } else {
      container.stderr = -1
    }
    close(fd)
  }

  /// A listening socket in a fresh 0700 directory under /tmp, short
  /// enough for any socket address (runc connects to it by path).
  private func consoleSocket() throws(MonitorError) -> (String, Int32) {
    var template = Array("/tmp/crio-console-XXXXXX".utf8CString)
    guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
      throw MonitorError("mkdtemp for the console socket")
    }
    let directory = String(cString: made)
    // Non-blocking: a runc that ended without connecting fails the accept
    // instead of stopping the loop.
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
    guard fd >= 0 else {
      removeConsoleDirectory(directory)
      throw MonitorError("socket")
    }
    let result = SocketPath.withAddress(directory: directory, name: "console") { bind(fd, $0, $1) }
    guard result == 0, listen(fd, 1) == 0 else {
      let error = MonitorError("listen on the console socket")
      close(fd)
      removeConsoleDirectory(directory)
      throw error
    }
    return (directory, fd)
  }

  private func removeConsoleDirectory(_ directory: String) {
    unlink(directory + "/console")
    rmdir(directory)
  }

  // MARK: - attach

  /// conmon's attach socket: `<attach dir>/<id>` links to the bundle, and
  /// the SEQPACKET socket `attach` in it serves clients (0700: root only).
  private func listenForAttach(_ container: Container) throws(MonitorError) {
    unlink(container.attachLink)
    guard symlink(container.bundle, container.attachLink) == 0 else { throw MonitorError("symlink \(container.attachLink)") }
    let socketType = Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
    let fd = socket(AF_UNIX, socketType, 0)
    guard fd >= 0 else { throw MonitorError("socket") }
    unlink(container.bundle + "/attach")
    let previous = umask(0o077)
    let bound = SocketPath.withAddress(directory: container.bundle, name: "attach") { bind(fd, $0, $1) }
    umask(previous)
    guard bound == 0, listen(fd, 10) == 0 else {
      let error = MonitorError("listen on the attach socket of \(container.id)")
      close(fd)
      throw error
    }
    container.attachListener = fd
  }

  private func acceptAttach(_ container: Container) {
    while true {
      let client = crio_monitor_accept(container.attachListener, Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue))
      guard client >= 0 else { return }
      container.attachClients.append(client)
      loop.watch(client) { [unowned self, unowned container] _ in readAttach(container, client) }
    }
  }

  /// Input from an attach client goes to the container's stdin. When the
  /// client closes its side, stdin is closed too unless it is to stay open
  /// (conmon's --leave-stdin-open); output still goes to the client.
  private func readAttach(_ container: Container, _ client: Int32) {
    var buffer = [UInt8](repeating: 0, count: 32768)
    let got = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
    if got < 0 && (errno == EINTR || errno == EAGAIN) { return }
    if got > 0 {
      // Input beyond 1 MiB the container has not taken is dropped: the
      // monitor's memory is shared by the whole pod.
      if container.pendingInput.count < 1 << 20, container.writeInput(buffer[..<got]), !container.pendingInput.isEmpty {
        loop.watch(container.stdin, events: Int16(POLLOUT)) { [unowned self, unowned container] _ in
          if !container.flushInput() || container.pendingInput.isEmpty { loop.unwatch(container.stdin) }
        }
      }
      return
    }
    if got < 0 {
      loop.unwatch(client)
      container.attachClients.removeAll { $0 == client }
      close(client)
    } else {
      // Its input ended; it may still read output. Watched for nothing
      // but hang-up, which comes once it has closed both directions.
      loop.watch(client, events: 0) { [unowned self, unowned container] events in
        guard events & Int16(POLLHUP | POLLERR | POLLNVAL) != 0 else { return }
        loop.unwatch(client)
        container.attachClients.removeAll { $0 == client }
        close(client)
      }
    }
    if !container.leaveStdinOpen && container.stdin >= 0 && !container.terminal {
      loop.unwatch(container.stdin)
      container.closeStdin()
    }
  }

  // MARK: - exits

  /// The container's init ended: what it wrote is drained into the log,
  /// the OOM marker and then the exit file are written (conmon's order),
  /// and its attach clients are let go.
  func recordExit(_ container: Container, status: Int32) {
    container.waitStatus = status
    for fd in [container.stdout, container.stderr] where fd >= 0 {
      let stream: CRILog.Stream = fd == container.stdout ? .stdout : .stderr
      while container.readOutput(fd, stream) == .data {}
      closeOutput(container, fd)
    }
    closeGoneClients(container)
    if container.stdin >= 0 {
      loop.unwatch(container.stdin)
      container.closeStdin()
    }
    container.log.sync()
    container.log.close()
    if container.oom?.struck == true { ExitRecord.markOOM(bundle: container.bundle) }
    let code = ExitRecord.code(waitStatus: status)
    do {
      try ExitRecord.write(code: code, id: container.id, directory: options.exitsDirectory)
    } catch {
      printError("cannot record the exit of container \(container.id): \(error)")
    }
    for client in container.attachClients {
      loop.unwatch(client)
      close(client)
    }
    container.attachClients = []
    if container.attachListener >= 0 {
      loop.unwatch(container.attachListener)
      close(container.attachListener)
      container.attachListener = -1
    }
    unlink(container.bundle + "/attach")
    unlink(container.attachLink)
    // Nothing more can be asked of an ended container: the pod's
    // containers come and go while the monitor lives on.
    containers[container.id] = nil
    finishShutdownIfDone()
  }
}

/// A line on the monitor's stderr (its log file in the pod's directory).
func printError(_ line: String) {
  let bytes = Array(("crio-monitor: " + line + "\n").utf8)
  _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}
