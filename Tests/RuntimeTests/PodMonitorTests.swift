import Foundation
import MonitorWire
import OCI
import Runtime
import Support
import Testing

/// What only the pod monitor does, with real runc: terminals and attach,
/// stdin, log reopening, OOM, its own death, its shutdown, and bad input on
/// its socket.
@Suite struct PodMonitorTests {
  /// The monitor's PID from its pid file.
  static func monitorPID(_ fx: Fixture) throws -> Int32 {
    try #require(readPid(fx.pod.directory + "/" + MonitorProtocol.pidFileName))
  }

  /// A connected SEQPACKET socket to the container's attach socket,
  /// reads bounded by a timeout so a broken monitor fails the test.
  static func attach(_ layout: ContainerLayout) throws -> Int32 {
    let fd = try UnixSocket.connect(layout.attachSocket, type: Int32(SOCK_SEQPACKET.rawValue))
    var timeout = timeval(tv_sec: 60, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    return fd
  }

  /// Reads attach packets (tag byte, then data) until `text` was seen on
  /// stream `tag`, or the socket ends.
  static func read(_ fd: Int32, until text: String, tag: UInt8 = 2) -> Bool {
    var seen = ""
    var buffer = [UInt8](repeating: 0, count: 8193)
    while !seen.contains(text) {
      let got = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
      guard got > 0 else { return false }
      if buffer[0] == tag { seen += String(decoding: buffer[1..<got], as: UTF8.self) }
    }
    return true
  }

  static func send(_ fd: Int32, _ text: String) {
    _ = Array(text.utf8).withUnsafeBytes { Foundation.send(fd, $0.baseAddress, $0.count, 0) }
  }

  static func log(_ fx: Fixture, _ id: String) -> String {
    (try? String(contentsOfFile: fx.logPath(id: id), encoding: .utf8)) ?? ""
  }

  @Test func terminalAttachAndResize() async throws {
    try await withFixture(.podMonitor) { fx in
      let id = Fixture.uniqueID()
      var spec = fx.spec(id: id, script: "read line; echo got:$line; read again; stty size; sleep 1000")
      spec.process?.terminal = true
      let bundle = try fx.bundle(id: id, spec: spec)
      try FileManager.default.createDirectory(atPath: fx.root + "/logs", withIntermediateDirectories: true)
      let layout = fx.runtime.layout(id: id, bundle: bundle.path)
      _ = try await fx.runtime.create(fx.request(id: id, bundle: bundle.path, terminal: true, stdin: true))
      try await fx.runtime.start(id: id)
      let socket = try Self.attach(layout)
      defer { close(socket) }
      Self.send(socket, "hello\n")
      #expect(Self.read(socket, until: "got:hello"), "\(fx.diagnostics(id: id))")
      try fx.runtime.control(layout, .resize(width: 100, height: 40))
      Self.send(socket, "x\n")
      #expect(Self.read(socket, until: "40 100"), "\(fx.diagnostics(id: id))")
      // The terminal's output is the log's stdout.
      #expect(await eventually { Self.log(fx, id).contains("stdout F got:hello") })
      #expect(try await fx.runtime.stop(id: id, timeout: .seconds(1)) == 137)
      // Its end closes the attach socket.
      #expect(!Self.read(socket, until: "never"))
    }
  }

  /// Attach clients that left are let go while the container runs.
  @Test func attachClientsThatLeaveAreClosed() async throws {
    try await withFixture(.podMonitor) { fx in
      let script = "while :; do echo tick; sleep 0.05; done"
      let process = try await fx.create(script: script)
      try await fx.runtime.start(id: process.id)
      let layout = fx.runtime.layout(id: process.id, bundle: fx.root + "/bundles/" + process.id)
      let monitor = try Self.monitorPID(fx)
      func sockets() -> Int {
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(monitor)/fd")) ?? []
        return fds.filter { ((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(monitor)/fd/\($0)")) ?? "").hasPrefix("socket:") }.count
      }
      let before = sockets()
      for _ in 0..<5 {
        let client = try Self.attach(layout)
        #expect(Self.read(client, until: "tick"))
        close(client)
      }
      // (Before may count a request connection the monitor is closing.)
      #expect(await eventually { sockets() <= before }, "the monitor holds \(sockets()) sockets, \(before) before")
      #expect(try await fx.runtime.stop(id: process.id, timeout: .seconds(1)) == 137)

      // A silent container: its clients go on their hang-up alone.
      let quiet = try await fx.create(script: "sleep 1000")
      try await fx.runtime.start(id: quiet.id)
      let quietLayout = fx.runtime.layout(id: quiet.id, bundle: fx.root + "/bundles/" + quiet.id)
      let idle = sockets()
      for _ in 0..<5 { close(try Self.attach(quietLayout)) }
      #expect(await eventually { sockets() <= idle }, "the monitor holds \(sockets()) sockets, \(idle) before")
      #expect(try await fx.runtime.stop(id: quiet.id, timeout: .seconds(1)) == 137)
    }
  }

  @Test func stdinOnceEndsWithTheAttachClientsInput() async throws {
    try await withFixture(.podMonitor) { fx in
      let id = Fixture.uniqueID()
      let bundle = try fx.bundle(id: id, spec: fx.spec(id: id, script: "cat; echo done"))
      try FileManager.default.createDirectory(atPath: fx.root + "/logs", withIntermediateDirectories: true)
      _ = try await fx.runtime.create(fx.request(id: id, bundle: bundle.path, stdin: true, stdinOnce: true))
      try await fx.runtime.start(id: id)
      let socket = try Self.attach(fx.runtime.layout(id: id, bundle: bundle.path))
      defer { close(socket) }
      Self.send(socket, "data\n")
      #expect(Self.read(socket, until: "data"))
      shutdown(socket, Int32(SHUT_WR))
      #expect(await fx.runtime.waitForExit(id: id, timeout: .seconds(60)) == 0, "\(fx.diagnostics(id: id))")
      let log = Self.log(fx, id)
      #expect(log.contains("stdout F data\n") && log.contains("stdout F done\n"), "\(log)")
    }
  }

  @Test func reopeningTheLogStartsANewFile() async throws {
    try await withFixture(.podMonitor) { fx in
      let script = "echo before; while :; do if [ -e /tmp/go ]; then rm /tmp/go; echo after; fi; sleep 0.1; done"
      let process = try await fx.create(script: script)
      let layout = fx.runtime.layout(id: process.id, bundle: fx.root + "/bundles/" + process.id)
      try await fx.runtime.start(id: process.id)
      let path = fx.logPath(id: process.id)
      #expect(await eventually { Self.log(fx, process.id).contains("F before") })
      try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
      try await fx.runtime.reopenLog(layout, logPath: path)
      _ = try await fx.runtime.execSync(id: process.id, command: ["touch", "/tmp/go"], timeout: .seconds(60))
      #expect(await eventually { Self.log(fx, process.id).contains("F after") }, "\(fx.diagnostics(id: process.id))")
      #expect(!Self.log(fx, process.id).contains("before"))
      #expect(try String(contentsOfFile: path + ".1", encoding: .utf8).contains("F before"))
      #expect(try await fx.runtime.stop(id: process.id, timeout: .seconds(1)) == 137)
    }
  }

  /// Reads `fd` to its end (EIO ends a terminal's master).
  static func readAll(_ fd: Int32) -> String {
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
      let got = chunk.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress, $0.count) }
      guard got > 0 else { break }
      bytes += chunk[..<got]
    }
    return String(decoding: bytes, as: UTF8.self)
  }

  @Test func streamingExecsRunUnderTheMonitorWithPipesOrATerminal() async throws {
    try await withFixture(.podMonitor) { fx in
      let process = try await fx.create(script: "sleep 1000")
      try await fx.runtime.start(id: process.id)
      let piped = try fx.runtime.startExec(id: process.id, command: ["sh", "-c", "cat; echo err >&2; exit 5"], tty: false, stdin: true)
      let input = try #require(piped.stdin)
      _ = Array("through stdin\n".utf8).withUnsafeBytes { Foundation.write(input, $0.baseAddress, $0.count) }
      close(input)
      let stdout = try #require(piped.stdout), stderr = try #require(piped.stderr)
      #expect(Self.readAll(stdout) == "through stdin\n")
      #expect(Self.readAll(stderr) == "err\n")
      close(stdout)
      close(stderr)
      #expect(await piped.wait() == 5)

      let terminal = try fx.runtime.startExec(id: process.id, command: ["sh", "-c", "tty; exit 3"], tty: true, stdin: false)
      let output = Self.readAll(try #require(terminal.stdout))
      #expect(output.contains("/dev/pts/"), "a real terminal: \(output)")
      #expect(await terminal.wait() == 3)
      for fd in [terminal.stdout, terminal.stdin, terminal.terminal].compactMap({ $0 }) { close(fd) }

      #expect(throws: RuntimeError.notFound(id: "crt-none")) {
        _ = try fx.runtime.startExec(id: "crt-none", command: ["true"], tty: false, stdin: false)
      }
      #expect(try await fx.runtime.stop(id: process.id, timeout: .seconds(1)) == 137)
    }
  }

  @Test func anOOMKillLeavesConmonsMarker() async throws {
    try await withFixture(.podMonitor) { fx in
      let id = Fixture.uniqueID()
      var spec = fx.spec(id: id, script: "dd if=/dev/zero of=/dev/null bs=64M count=1")
      spec.linux?.resources?.memory = Spec.Memory(limit: 16 << 20, swap: 16 << 20)
      let bundle = try fx.bundle(id: id, spec: spec)
      try FileManager.default.createDirectory(atPath: fx.root + "/logs", withIntermediateDirectories: true)
      _ = try await fx.runtime.create(fx.request(id: id, bundle: bundle.path))
      try await fx.runtime.start(id: id)
      #expect(await fx.runtime.waitForExit(id: id, timeout: .seconds(60)) == 137)
      let exit = try #require(fx.runtime.layout(id: id, bundle: bundle.path).recordedExit())
      #expect(exit.oomKilled)
      #expect(!exit.monitorLost)
    }
  }

  @Test func containersAreTheMonitorsChildrenAndItHasItsOwnSession() async throws {
    try await withFixture(.podMonitor) { fx in
      let process = try await fx.create(script: "sleep 1000")
      try await fx.runtime.start(id: process.id)
      let monitor = try Self.monitorPID(fx)
      #expect(process.conmonPid == monitor)
      func stat(_ pid: Int32) throws -> [Substring] {
        let text = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        return text[text.index(after: text.lastIndex(of: ")")!)...].split(separator: " ")
      }
      // Subreaper: runc create exited, the container's init is the monitor's.
      #expect(try stat(process.pid)[1] == Substring(String(monitor)))
      // Its own session, not a child of this process.
      #expect(try stat(monitor)[1] != Substring(String(getpid())))
      #expect(try stat(monitor)[3] == Substring(String(monitor)))
      #expect(try await fx.runtime.stop(id: process.id, timeout: .seconds(1)) == 137)
    }
  }

  @Test func aKilledMonitorsContainersAreKilledAndRecordedAsLost() async throws {
    try await withFixture(.podMonitor) { fx in
      let process = try await fx.create(script: "sleep 1000")
      try await fx.runtime.start(id: process.id)
      let monitor = try Self.monitorPID(fx)
      #expect(kill(monitor, SIGKILL) == 0)
      #expect(await fx.runtime.waitForExit(id: process.id, timeout: .seconds(60)) == 137)
      let exit = try #require(fx.runtime.layout(id: process.id, bundle: fx.root + "/bundles/" + process.id).recordedExit())
      #expect(exit.monitorLost)
      #expect(await eventually { !Processes.isAlive(process.pid) })
      // Nothing to ask of it any more; removing the container works.
      await #expect(throws: RuntimeError.notFound(id: process.id)) {
        _ = try await fx.runtime.execSync(id: process.id, command: ["true"], timeout: .seconds(10))
      }
      try await fx.runtime.delete(id: process.id, force: true)
      await #expect(throws: RuntimeError.notFound(id: process.id)) { try await fx.runtime.state(id: process.id) }
    }
  }

  /// A runc create that hangs (here on its createRuntime hook, which waits
  /// for a file the test writes) holds up only its own answer: the pod's
  /// other containers are exec'd into, and another is created and
  /// started, meanwhile. Then the held one completes and runs.
  @Test func aHangingCreateLeavesTheRestOfThePodServed() async throws {
    try await withFixture(.podMonitor) { fx in
      let running = try await fx.create(script: "sleep 1000")
      try await fx.runtime.start(id: running.id)
      let held = try await HeldCreate(fx, script: "echo held; sleep 1000")
      defer { held.release() }

      let exec = try await fx.runtime.execSync(id: running.id, command: ["echo", "served"], timeout: .seconds(60))
      #expect(exec.stdoutText == "served\n")
      let other = try await fx.create(script: "echo other; sleep 1000")
      try await fx.runtime.start(id: other.id)
      #expect(await eventually { Self.log(fx, other.id).contains("other") }, "\(fx.diagnostics(id: other.id))")
      // Only now may the held create end.
      held.release()
      let process = try await held.task.value
      try await fx.runtime.start(id: held.id)
      #expect(await eventually { Self.log(fx, held.id).contains("held") }, "\(fx.diagnostics(id: held.id))")
      #expect(Processes.isAlive(process.pid))
    }
  }

  /// A pod stopped while a create hangs: the monitor lets runc finish
  /// (killing it would leave runc's state and cgroups behind), kills the
  /// container it made, records its exit and ends.
  @Test func aPodStoppedDuringAHangingCreateTakesItsContainerAlong() async throws {
    try await withFixture(.podMonitor) { fx in
      let held = try await HeldCreate(fx, script: "sleep 1000")
      defer { held.release() }
      let monitor = try Self.monitorPID(fx)
      let stopping = Task { await fx.runtime.stopPod(fx.pod) }
      // The monitor took the shutdown once it refuses new work.
      #expect(await eventually {
        guard case .error(.shuttingDown, _)? = try? MonitorClient.call(directory: fx.pod.directory, .start(id: held.id), timeoutSeconds: 30) else {
          return false
        }
        return true
      })
      held.release()
      let process = try await held.task.value
      await stopping.value
      #expect(!Processes.isAlive(monitor))
      #expect(await eventually { !Processes.isAlive(process.pid) })
      #expect(fx.runtime.exitCode(id: held.id) == 137)
    }
  }

  /// The monitor killed while a `runc create` it started hangs: the create
  /// fails without being tried again in a new monitor (the orphaned runc
  /// still holds the ID), and once that runc ends, what it made is deleted:
  /// no container, no process of it, no runc state.
  @Test func aMonitorKilledDuringACreateLeavesNoContainerBehind() async throws {
    try await withFixture(.podMonitor) { fx in
      let held = try await HeldCreate(fx, script: "sleep 1000")
      defer { held.release() }
      let monitor = try Self.monitorPID(fx)
      let orphans = Self.runcCommands(for: held.id)
      #expect(!orphans.isEmpty, "the held runc create is found by its command line")
      #expect(kill(monitor, SIGKILL) == 0)
      let failure = await #expect(throws: RuntimeError.self) { _ = try await held.task.value }
      #expect(failure.map { "\($0)" }?.contains("died") == true, "\(String(describing: failure))")
      held.release()
      #expect(await eventually { Self.runcCommands(for: held.id).isEmpty })
      #expect(await eventually {
        do throws(RuntimeError) {
          _ = try await fx.runtime.state(id: held.id)
          return false
        } catch {
          guard case .notFound = error else { return false }
        }
        return !FileManager.default.fileExists(atPath: fx.config.runtimeRoot + "/" + held.id)
      }, "runc still has the container")
      for pid in orphans { #expect(!Processes.isAlive(pid)) }
    }
  }

  /// runc processes whose command line ends with `id`.
  static func runcCommands(for id: String) -> [Int32] {
    Processes.commandLines().compactMap { pid, arguments in
      arguments.first.map { $0.hasSuffix("runc") } == true && arguments.last == id ? pid : nil
    }
  }

  /// A create whose `runc create` hangs on its createRuntime hook until
  /// `release()` (the hook waits for a file), returned once the hook runs.
  struct HeldCreate {
    let id = Fixture.uniqueID()
    let task: Task<ContainerProcess, any Error>
    let releaseFile: String

    init(_ fx: Fixture, script: String) async throws {
      try FileManager.default.createDirectory(atPath: fx.root + "/logs", withIntermediateDirectories: true)
      let started = fx.root + "/hook-started-" + id
      releaseFile = fx.root + "/hook-release-" + id
      var spec = fx.spec(id: id, script: script)
      let wait = "touch \(started); while [ ! -e \(releaseFile) ]; do sleep 0.05; done"
      spec.hooks = Spec.Hooks(createRuntime: [Spec.Hook(path: "/bin/sh", args: ["sh", "-c", wait])])
      let request = fx.request(id: id, bundle: try fx.bundle(id: id, spec: spec).path)
      task = Task { try await fx.runtime.create(request) }
      #expect(await eventually { FileManager.default.fileExists(atPath: started) })
    }

    func release() { FileManager.default.createFile(atPath: releaseFile, contents: nil) }
  }

  @Test func aMonitorFoundAgainAfterARestartIsWatched() async throws {
    try await withFixture(.podMonitor) { fx in
      let process = try await fx.create(script: "sleep 1000")
      try await fx.runtime.start(id: process.id)
      // A new runtime object, as after a daemon restart.
      let again = PodMonitorRuntime(config: fx.config)
      await again.recoverPod(fx.pod)
      #expect(try await again.execSync(id: process.id, command: ["echo", "still"], timeout: .seconds(60)).stdoutText == "still\n")
      #expect(again.exitCode(id: process.id) == nil)
      #expect(kill(try Self.monitorPID(fx), SIGKILL) == 0)
      #expect(await again.waitForExit(id: process.id, timeout: .seconds(60)) == 137)
    }
  }

  @Test func stoppingThePodEndsTheMonitorAndItsContainers() async throws {
    try await withFixture(.podMonitor) { fx in
      let process = try await fx.create(script: "sleep 1000")
      try await fx.runtime.start(id: process.id)
      let monitor = try Self.monitorPID(fx)
      await fx.runtime.stopPod(fx.pod)
      #expect(!Processes.isAlive(monitor))
      #expect(fx.runtime.exitCode(id: process.id) == 137)
      let exit = try #require(fx.runtime.layout(id: process.id, bundle: fx.root + "/bundles/" + process.id).recordedExit())
      #expect(!exit.monitorLost)
      #expect(!FileManager.default.fileExists(atPath: fx.pod.directory + "/" + MonitorProtocol.socketName))
      #expect(await eventually { !Processes.isAlive(process.pid) })
    }
  }

  /// Malformed, oversized, truncated and wrong-version requests each get an
  /// error answer; the monitor keeps serving.
  @Test func badRequestsGetAnErrorAndTheMonitorLives() async throws {
    try await withFixture(.podMonitor) { fx in
      func raw(_ bytes: [UInt8]) throws -> MonitorResponse {
        let fd = try MonitorClient.connect(directory: fx.pod.directory)
        defer { close(fd) }
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return try MonitorClient.exchange(fd, bytes, timeoutSeconds: 30)
      }
      func isBadRequest(_ response: MonitorResponse) -> Bool {
        if case .error(.badRequest, _) = response { return true }
        return false
      }
      // Oversized: refused from the header alone.
      #expect(isBadRequest(try raw([0x7f, 0xff, 0xff, 0xff])))
      // Another version.
      let response = try raw([0, 0, 0, 2, 99, 1])
      guard case .error(.badRequest, let message) = response else {
        Issue.record("got \(response)")
        return
      }
      #expect(message.contains("version 99"))
      // Random bodies in well-formed frames, many on one connection.
      let fd = try MonitorClient.connect(directory: fx.pod.directory)
      defer { close(fd) }
      for _ in 0..<300 {
        let kind = UInt8.random(in: 1...9)
        var body = [MonitorProtocol.version, kind]
        // A shutdown has an empty body: never sent whole here.
        body += (0..<Int.random(in: kind == 7 ? 1...40 : 0...40)).map { _ in UInt8.random(in: 0...255) }
        let frame = [UInt8(0), 0, UInt8(body.count >> 8), UInt8(body.count & 0xff)] + body
        let answer = try MonitorClient.exchange(fd, frame, timeoutSeconds: 30)
        if case .error = answer { continue }
        // A body that happened to be valid: a hello, or a request about no container.
        #expect(answer == .hello(pid: try Self.monitorPID(fx)) || answer == .ok || isNotFound(answer), "\(answer)")
      }
      // Many tiny requests in one write, answered in order.
      let pipelined = try MonitorClient.connect(directory: fx.pod.directory)
      defer { close(pipelined) }
      let count = 50_000
      let hello = Frame.encode(MonitorRequest.hello)
      var batch: [UInt8] = []
      for _ in 0..<count { batch += hello }
      let sender = Task.detached { try SocketIO.writeAll(pipelined, batch) }
      let answer = Frame.encode(MonitorResponse.hello(pid: try Self.monitorPID(fx)))
      let answers = try SocketIO.readExactly(pipelined, answer.count * count)
      try await sender.value
      #expect(answers == Array((0..<count).map { _ in answer }.joined()))
      // A client that leaves in the middle of a frame.
      let partial = try MonitorClient.connect(directory: fx.pod.directory)
      _ = [UInt8(0), 0, 1, 0, 1].withUnsafeBytes { Foundation.send(partial, $0.baseAddress, $0.count, 0) }
      close(partial)
      // Still serving.
      #expect(try MonitorClient.call(directory: fx.pod.directory, .hello, timeoutSeconds: 30) == .hello(pid: try Self.monitorPID(fx)))
      let process = try await fx.create(script: "sleep 1000")
      try await fx.runtime.start(id: process.id)
      #expect(try await fx.runtime.execSync(id: process.id, command: ["echo", "ok"], timeout: .seconds(60)).stdoutText == "ok\n")
    }
  }

  /// A client that leaves while its ExecSync runs: the answer is not
  /// sent to the next client given the same descriptor number.
  @Test func aLateAnswerNeverReachesAnotherClient() async throws {
    try await withFixture(.podMonitor) { fx in
      let process = try await fx.create(script: "sleep 1000")
      try await fx.runtime.start(id: process.id)
      let leaving = try MonitorClient.connect(directory: fx.pod.directory)
      try SocketIO.writeAll(
        leaving, Frame.encode(MonitorRequest.execSync(id: process.id, command: ["sleep", "1"], timeoutMilliseconds: 0, outputLimit: 1024)))
      close(leaving)
      let next = try MonitorClient.connect(directory: fx.pod.directory)
      defer { close(next) }
      let hello = MonitorResponse.hello(pid: try Self.monitorPID(fx))
      #expect(try MonitorClient.exchange(next, Frame.encode(MonitorRequest.hello), timeoutSeconds: 30) == hello)
      // Once the exec has ended, the next answer on this connection is still its own.
      try await Task.sleep(for: .seconds(2))
      #expect(try MonitorClient.exchange(next, Frame.encode(MonitorRequest.hello), timeoutSeconds: 30) == hello)
    }
  }

  private func isNotFound(_ response: MonitorResponse) -> Bool {
    if case .error(.notFound, _) = response { return true }
    return false
  }
}
