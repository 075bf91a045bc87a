import CRIAPI
import FoundationEssentials
import GRPCCore
import Runtime

extension CRIRuntimeService {
  public func execSync(
    request: Runtime_V1_ExecSyncRequest,
    context: GRPCCore.ServerContext
  ) async throws -> Runtime_V1_ExecSyncResponse {
    guard !request.cmd.isEmpty else {
      throw CRIError.invalidArgument("ExecSync needs a command (cmd is empty)")
    }
    let owner = try daemon.runningContainer(request.containerID)
    // No timeout from kubelet means none; a long cap keeps a stuck probe
    // from holding resources forever.
    let timeout: Duration = request.timeout > 0 ? .seconds(request.timeout) : .seconds(3600)
    let result: ExecResult
    do {
      result = try await owner.runtime.execSync(id: owner.id, command: request.cmd, timeout: timeout)
    } catch {
      throw CRIError.runtime(error, "exec in container \(owner.id)")
    }
    var response = Runtime_V1_ExecSyncResponse()
    // Already capped by the runtime: stdout and stderr together within
    // ExecOutput.maximumBytes, so the answer fits kubelet's 16 MiB.
    response.stdout = Data(result.stdout)
    response.stderr = Data(result.stderr)
    response.exitCode = result.exitCode
    return response
  }
}
