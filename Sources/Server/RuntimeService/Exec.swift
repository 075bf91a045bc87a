import CRIAPI
import GRPCCore
import Streaming
import SwiftProtobuf

extension CRIRuntimeService {
  /// A URL on the streaming server where the client runs the command.
  public func exec(
    request: Runtime_V1_ExecRequest,
    context: GRPCCore.ServerContext
  ) async throws -> Runtime_V1_ExecResponse {
    guard !request.cmd.isEmpty else { throw CRIError.invalidArgument("cmd must name a command to run") }
    let container = try daemon.runningContainer(request.containerID)
    let url = try register(.exec(ExecRequest(
      containerID: container.id, command: request.cmd, tty: request.tty,
      stdin: request.stdin, stdout: request.stdout, stderr: request.stderr)))
    return .with { $0.url = url }
  }

  /// A URL on the streaming server where the client joins the container's stdio.
  public func attach(
    request: Runtime_V1_AttachRequest,
    context: GRPCCore.ServerContext
  ) async throws -> Runtime_V1_AttachResponse {
    let container = try daemon.runningContainer(request.containerID)
    let url = try register(.attach(AttachRequest(
      containerID: container.id, tty: request.tty, stdin: request.stdin, stdout: request.stdout, stderr: request.stderr)))
    return .with { $0.url = url }
  }

  /// A URL on the streaming server that forwards to ports inside the pod.
  public func portForward(
    request: Runtime_V1_PortForwardRequest,
    context: GRPCCore.ServerContext
  ) async throws -> Runtime_V1_PortForwardResponse {
    let pod = try daemon.readyPod(request.podSandboxID)
    var ports: [UInt16] = []
    for port in request.port {
      guard let valid = UInt16(exactly: port), valid > 0 else {
        throw CRIError.invalidArgument("port \(port) is not a TCP port (1-65535)")
      }
      ports.append(valid)
    }
    let url = try register(.portForward(PortForwardRequest(podSandboxID: pod.id, ports: ports)))
    return .with { $0.url = url }
  }

  func register(_ request: StreamingRequest) throws(CRIError) -> String {
    do {
      return try streaming.register(request)
    } catch .tooManyPendingRequests(let limit) {
      throw .resourceExhausted("too many pending streaming requests (limit \(limit)); retry later")
    } catch {
      throw .invalidArgument(error.description)
    }
  }
}
