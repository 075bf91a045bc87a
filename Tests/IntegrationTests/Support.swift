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
