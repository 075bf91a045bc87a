#if canImport(Glibc)
import Glibc
#endif
import CRIClient
import GRPCCore
import Testing
import Support

/// Starts a daemon on its own socket and directories, runs `body` against it,
/// and always kills it and removes its files, even when `body` throws.
func withDaemon<Result: Sendable>(
  config: String = "",
  arguments: [String] = [],
  prepare: (String) throws -> Void = { _ in },
  _ body: (DaemonProcess) async throws -> Result
) async throws -> Result {
  let daemon = try DaemonProcess(config: config, arguments: arguments, prepare: prepare)
  do {
    try await daemon.waitUntilReady()
    let result = try await body(daemon)
    await daemon.cleanUp()
    return result
  } catch {
    Issue.record("daemon log:\n\(daemon.log())")
    await daemon.cleanUp()
    throw error
  }
}

/// Runs `body` with a CRI connection to a fresh daemon.
func withCRI<Result: Sendable>(
  config: String = "",
  arguments: [String] = [],
  prepare: (String) throws -> Void = { _ in },
  _ body: (CRIConnection, DaemonProcess) async throws -> Result
) async throws -> Result {
  try await withDaemon(config: config, arguments: arguments, prepare: prepare) { daemon in
    try await CRIConnection.with(socket: daemon.socket) { cri in try await body(cri, daemon) }
  }
}

/// Runs `before` against a fresh daemon, kills it with SIGKILL (as a crash
/// or the OOM killer would; `signal: SIGTERM` stops it cleanly instead),
/// then runs `after` against a new daemon on the same directories and
/// configuration: what a restart finds. A failure is recorded with both
/// daemons' logs; whichever runs last is cleaned up.
func acrossAKilledDaemon<State: Sendable>(
  config: String = "",
  signal: Int32 = SIGKILL,
  prepare: (String) throws -> Void = { _ in },
  before: (CRIConnection, DaemonProcess) async throws -> State,
  whileDown: (DaemonProcess, State) async throws -> Void = { _, _ in },
  after: (CRIConnection, DaemonProcess, State) async throws -> Void
) async throws {
  let first = try DaemonProcess(config: config, prepare: prepare)
  var second: DaemonProcess?
  do {
    try await first.waitUntilReady()
    let state = try await CRIConnection.with(socket: first.socket) { cri in try await before(cri, first) }
    #expect(await first.stop(signal: signal) == (signal == SIGKILL ? 137 : 0))
    try await whileDown(first, state)
    let restarted = try DaemonProcess(config: config, reusing: first.directory)
    second = restarted
    try await restarted.waitUntilReady()
    try await CRIConnection.with(socket: restarted.socket) { cri in try await after(cri, restarted, state) }
  } catch {
    Issue.record("\(error)\n\(first.log())\n\(second?.log() ?? "")")
  }
  if let second { await second.cleanUp() } else { await first.cleanUp() }
}

/// The two ways the default handler (runc) runs containers, for tests that
/// run against both: one conmon per container (runtime_type "oci", the
/// default) or one pod monitor per pod ("pod").
enum RuntimeType: String, CaseIterable, Sendable, CustomTestStringConvertible {
  case oci, pod

  var testDescription: String { rawValue }

  /// The type every daemon's default handler has, whatever a test
  /// configures, when the suite runs with CRIO_TEST_RUNTIME_TYPE set.
  static var forced: RuntimeType? { DaemonProcess.forcedRuntimeType.flatMap(RuntimeType.init(rawValue:)) }

  /// Configuration that makes the default handler this type.
  var config: String {
    self == .oci ? "" : "\n[crio.runtime.runtimes.runc]\nruntime_type = \"pod\"\n"
  }
}

/// The gRPC status code a call failed with.
func rpcCode(_ call: () async throws -> some Any) async -> RPCError.Code? {
  do {
    _ = try await call()
    return nil
  } catch let error as RPCError {
    return error.code
  } catch {
    return nil
  }
}

/// The gRPC error a call failed with (code and message), nil when it succeeded.
func rpcError(_ call: () async throws -> Void) async -> RPCError? {
  do {
    try await call()
    return nil
  } catch let error as RPCError {
    return error
  } catch {
    Issue.record("not an RPC error: \(error)")
    return nil
  }
}

/// Runs the `crio` binary under test with `arguments`.
func crio(_ arguments: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
  try await Processes.run(CrioBinary.path, arguments)
}

/// Polls `condition` for up to `timeout`.
func eventually(timeout: Duration = .seconds(10), _ condition: () -> Bool) async -> Bool {
  let deadline = ContinuousClock.now + timeout
  while ContinuousClock.now < deadline {
    if condition() { return true }
    try? await Task.sleep(for: .milliseconds(10))
  }
  return condition()
}

/// For tests of conmon itself (its flags, environment, cgroup, process):
/// when the suite is run with every daemon on pod monitors there is no
/// conmon to look at. (CI runs the suite as it is, with these.)
let conmonOnly = ConditionTrait.enabled(if: RuntimeType.forced != .pod, "looks at conmon itself")
