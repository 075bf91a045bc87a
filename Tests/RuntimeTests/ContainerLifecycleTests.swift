import Foundation
import OCI
import Runtime
import Support
import Testing

/// Real runc under conmon or the pod monitor (most tests run against both).
/// Every test has its own directories, runc root and container ids, and
/// cleans up even when it fails.
@Suite struct ContainerLifecycleTests {
  @Test(arguments: RuntimeKind.allCases)
  func runsToCompletionWritesCRILogAndExitCode(_ kind: RuntimeKind) async throws {
    try await withFixture(kind) { fx in
      let id = Fixture.uniqueID()
      let process = try await fx.create(script: "echo hello; echo oops >&2; exit 3", id: id)
      #expect(process.id == id)
      #expect(process.pid > 0)
      #expect(process.conmonPid != nil)
      let created = try await fx.runtime.state(id: id)
      #expect(created.status == .created)
      #expect(created.pid == process.pid)
      #expect(fx.runtime.exitCode(id: id) == nil)

      try await fx.runtime.start(id: id)
      let code = await fx.runtime.waitForExit(id: id, timeout: .seconds(60))
      #expect(code == 3)
      #expect(fx.runtime.exitCode(id: id) == 3)

      // Each line: <RFC3339Nano> <stream> F <text>
      let pattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2}) (stdout|stderr) F (.*)$/
      var lines: [String] = []
      let complete = await eventually {
        let text = (try? String(contentsOfFile: fx.logPath(id: id), encoding: .utf8)) ?? ""
        lines = text.split(separator: "\n").map(String.init)
        return lines.count >= 2
      }
      #expect(complete, "log: \(lines)")
      var seen: [String: String] = [:]
      for line in lines {
        let match = try #require(line.wholeMatch(of: pattern), "bad CRI log line \(line)")
        seen[String(match.output.3)] = String(match.output.4)
      }
      #expect(seen["stdout"] == "hello")
      #expect(seen["stderr"] == "oops")

      #expect(try await fx.runtime.state(id: id).status == .stopped)
      try await fx.runtime.delete(id: id)
      await #expect(throws: RuntimeError.notFound(id: id)) { try await fx.runtime.state(id: id) }
      #expect(!FileManager.default.fileExists(atPath: fx.config.runtimeRoot + "/" + id))
    }
  }

  @Test(arguments: RuntimeKind.allCases)
  func stopWithSIGTERM(_ kind: RuntimeKind) async throws {
    try await withFixture(kind) { fx in
      // pid 1 of a pid namespace only gets signals it handles: trap TERM.
      let process = try await fx.create(script: "trap 'exit 143' TERM; sleep 1000 & wait")
      try await fx.runtime.start(id: process.id)
      let state = try await fx.runtime.state(id: process.id)
      #expect(state.status == .running, "\(fx.diagnostics(id: process.id))")
      #expect(state.pid == process.pid)
      #expect(Processes.isAlive(state.pid))
      let started = ContinuousClock.now
      let code = try await fx.runtime.stop(id: process.id, timeout: .seconds(60))
      #expect(code == 143)
      #expect(ContinuousClock.now - started < .seconds(50))
      #expect(try await fx.runtime.state(id: process.id).status == .stopped)
      // Stopping again returns the recorded code.
      #expect(try await fx.runtime.stop(id: process.id, timeout: .seconds(1)) == 143)
      try await fx.runtime.delete(id: process.id)
    }
  }

  @Test(arguments: RuntimeKind.allCases)
  func stopEscalatesToSIGKILLAfterTimeout(_ kind: RuntimeKind) async throws {
    try await withFixture(kind) { fx in
      let process = try await fx.create(script: "trap '' TERM; sleep 100")
      try await fx.runtime.start(id: process.id)
      #expect(try await fx.runtime.state(id: process.id).status == .running)
      let started = ContinuousClock.now
      let code = try await fx.runtime.stop(id: process.id, timeout: .seconds(1))
      let elapsed = ContinuousClock.now - started
      #expect(code == 137, "\(fx.diagnostics(id: process.id))")
      #expect(elapsed >= .seconds(1))
      #expect(!Processes.isAlive(process.pid))
    }
  }

  @Test(arguments: RuntimeKind.allCases)
  func killSendsASignal(_ kind: RuntimeKind) async throws {
    try await withFixture(kind) { fx in
      let process = try await fx.create(script: "trap 'exit 42' USR1; sleep 1000 & wait")
      try await fx.runtime.start(id: process.id)
      try await fx.runtime.kill(id: process.id, signal: SIGUSR1)
      #expect(await fx.runtime.waitForExit(id: process.id, timeout: .seconds(60)) == 42)
    }
  }

  @Test(arguments: RuntimeKind.allCases)
  func execSyncOutputAndExitCodes(_ kind: RuntimeKind) async throws {
    try await withFixture(kind) { fx in
      let process = try await fx.create(script: "sleep 1000")
      try await fx.runtime.start(id: process.id)

      let hi = try await fx.runtime.execSync(id: process.id, command: ["echo", "hi"], timeout: .seconds(60))
      #expect(hi.exitCode == 0)
      #expect(hi.stdoutText == "hi\n")
      #expect(hi.stderr.isEmpty)
      #expect(!hi.timedOut)

      let failing = try await fx.runtime.execSync(
        id: process.id, command: ["sh", "-c", "echo out; echo err >&2; exit 7"], timeout: .seconds(60))
      #expect(failing.exitCode == 7)
      #expect(failing.stdoutText == "out\n")
      #expect(failing.stderrText == "err\n")

      // The exec'd process sees the container's pid namespace.
      let pid = try await fx.runtime.execSync(id: process.id, command: ["sh", "-c", "echo $$"], timeout: .seconds(60))
      #expect(pid.exitCode == 0)
      #expect(Int(pid.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0 > 1)

      let missing = try await fx.runtime.execSync(id: process.id, command: ["/no/such/binary"], timeout: .seconds(60))
      #expect(missing.exitCode != 0)

      #expect(try await fx.runtime.stop(id: process.id, timeout: .seconds(1)) == 137)
    }
  }

  @Test(arguments: RuntimeKind.allCases)
  func execSyncTimeoutKillsTheCommand(_ kind: RuntimeKind) async throws {
    try await withFixture(kind) { fx in
      let process = try await fx.create(script: "sleep 1000")
      try await fx.runtime.start(id: process.id)
      let started = ContinuousClock.now
      let result = try await fx.runtime.execSync(
        id: process.id, command: ["sh", "-c", "echo started; exec sleep 300"], timeout: .seconds(1))
      let elapsed = ContinuousClock.now - started
      #expect(result.timedOut)
      #expect(result.exitCode == -1)
      #expect(result.stderrText == ExecResult.timedOutMessage)
      #expect(elapsed >= .seconds(1))
      #expect(elapsed < .seconds(60))
      // The exec'd sleep is gone; only the container's own sleep remains.
      let gone = try await eventually {
        let ps = try await fx.runtime.execSync(id: process.id, command: ["ps", "-o", "args"], timeout: .seconds(60))
        return !ps.stdoutText.contains("sleep 300")
      }
      #expect(gone)
      #expect(try await fx.runtime.state(id: process.id).status == .running)
    }
  }

  @Test(arguments: RuntimeKind.allCases)
  func execSyncInUnknownContainerThrows(_ kind: RuntimeKind) async throws {
    try await withFixture(kind) { fx in
      await #expect(throws: RuntimeError.self) {
        _ = try await fx.runtime.execSync(id: "crt-missing-\(UInt32.random(in: 0...UInt32.max))", command: ["true"], timeout: .seconds(30))
      }
    }
  }

  @Test(arguments: RuntimeKind.allCases)
  func createWithMissingRootfsFailsWithRuncMessageAndLeavesNothing(_ kind: RuntimeKind) async throws {
    try await withFixture(kind) { fx in
      let id = Fixture.uniqueID()
      let spec = fx.spec(id: id, script: "true", rootPath: fx.root + "/no-such-rootfs")
      let bundle = try fx.bundle(id: id, spec: spec)
      try FileManager.default.createDirectory(atPath: fx.root + "/logs", withIntermediateDirectories: true)
      var thrown: RuntimeError?
      do throws(RuntimeError) {
        _ = try await fx.runtime.create(fx.request(id: id, bundle: bundle.path))
      } catch {
        thrown = error
      }
      let error = try #require(thrown)
      guard case .createFailed(let failedID, let message) = error else {
        Issue.record("expected createFailed, got \(error)")
        return
      }
      #expect(failedID == id)
      #expect(message.contains("no-such-rootfs") || message.contains("no such file"), "\(message)")
      #expect(error.description.contains(id))
      // Nothing left: no runc state, no conmon, no exit file.
      #expect(!FileManager.default.fileExists(atPath: fx.config.runtimeRoot + "/" + id))
      await #expect(throws: RuntimeError.notFound(id: id)) { try await fx.runtime.state(id: id) }
      if let conmon = readPid(bundle.path + "/conmon.pid") {
        #expect(await eventually { !Processes.isAlive(conmon) }, "conmon \(conmon) still running")
      }
      #expect(fx.runtime.exitCode(id: id) == nil)
    }
  }

  @Test func conmonDoesNotInheritStrayDescriptors() async throws {
    try await withFixture { fx in
      // A descriptor opened without O_CLOEXEC, as careless code elsewhere in
      // the daemon might; conmon must not keep it.
      let marker = fx.root + "/stray-descriptor-marker"
      let stray = open(marker, O_WRONLY | O_CREAT, 0o600)
      #expect(stray >= 0)
      defer { close(stray) }
      let process = try await fx.create(script: "sleep 1000")
      let conmon = try #require(process.conmonPid)
      let fds = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(conmon)/fd")
      let targets = fds.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(conmon)/fd/\($0)") }
      #expect(!targets.contains(marker), "conmon fds: \(targets)")
      try await fx.runtime.delete(id: process.id, force: true)
    }
  }

  @Test(arguments: RuntimeKind.allCases)
  func unknownContainerIsNotFound(_ kind: RuntimeKind) async throws {
    try await withFixture(kind) { fx in
      let id = Fixture.uniqueID()
      await #expect(throws: RuntimeError.notFound(id: id)) { try await fx.runtime.state(id: id) }
      await #expect(throws: RuntimeError.notFound(id: id)) { try await fx.runtime.start(id: id) }
      try await fx.runtime.delete(id: id, force: true)
      #expect(fx.runtime.exitCode(id: id) == nil)
    }
  }

  @Test func containerOutlivesTheClientObject() async throws {
    try await withFixture { fx in
      let id = Fixture.uniqueID()
      // A separate runtime object, dropped at the end of this scope.
      func launch() async throws -> ContainerProcess {
        let client = ConmonRuntime(config: fx.config)
        let bundle = try fx.bundle(id: id, spec: fx.spec(id: id, script: "trap 'exit 143' TERM; sleep 1000 & wait"))
        try FileManager.default.createDirectory(atPath: fx.root + "/logs", withIntermediateDirectories: true)
        let process = try await client.create(CreateRequest(layout: client.layout(id: id, bundle: bundle.path), name: id, logPath: fx.logPath(id: id)))
        try await client.start(id: id)
        return process
      }
      let process = try await launch()
      let conmon = try #require(process.conmonPid)
      #expect(Processes.isAlive(conmon))
      #expect(Processes.isAlive(process.pid))
      // conmon is daemonized: not a child of this process.
      let stat = try String(contentsOfFile: "/proc/\(conmon)/stat", encoding: .utf8)
      let fields = stat[stat.index(after: stat.lastIndex(of: ")")!)...].split(separator: " ")
      #expect(Int32(fields[1]) != getpid())

      let again = ConmonRuntime(config: fx.config)
      let state = try await again.state(id: id)
      #expect(state.status == .running, "\(fx.diagnostics(id: process.id))")
      #expect(state.pid == process.pid)
      #expect(try await again.stop(id: id, timeout: .seconds(60)) == 143)
      // conmon ends once the container has.
      #expect(await eventually { !Processes.isAlive(conmon) })
      try await again.delete(id: id)
    }
  }
}
