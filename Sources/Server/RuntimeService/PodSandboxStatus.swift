import CRIAPI
import GRPCCore
import PodNetwork
import Support
import SwiftProtobuf

extension CRIRuntimeService {
  public func podSandboxStatus(
    request: Runtime_V1_PodSandboxStatusRequest,
    context: GRPCCore.ServerContext
  ) async throws -> Runtime_V1_PodSandboxStatusResponse {
    let pod = try daemon.pod(request.podSandboxID)
    var response = Runtime_V1_PodSandboxStatusResponse()
    response.status = pod.criStatus()
    if request.verbose {
      response.info = ["info": pod.verboseInfo().rendered()]
    }
    return response
  }
}

extension PodSandbox {
  /// What PodSandboxStatus (and a container event) says about it.
  func criStatus() -> Runtime_V1_PodSandboxStatus {
    let config = configMessage
    var status = Runtime_V1_PodSandboxStatus()
    status.id = id
    status.metadata = config.metadata
    status.state = criState
    status.createdAt = createdAt
    status.network = Runtime_V1_PodSandboxNetworkStatus()
    if let ips = network?.ips, let first = ips.first {
      status.network.ip = first
      status.network.additionalIps = ips.dropFirst().map { ip in .with { $0.ip = ip } }
    }
    status.linux.namespaces.options = config.linux.securityContext.namespaceOptions
    status.labels = config.labels
    status.annotations = config.annotations
    status.runtimeHandler = runtimeHandler
    return status
  }

  /// `crictl inspectp` detail.
  func verboseInfo() -> JSONValue {
    .object([
      ("id", .string(id)),
      ("name", .string(name)),
      ("hostname", .string(hostname)),
      ("runtimeHandler", .string(runtimeHandler)),
      ("namespaces", .object([
        ("network", .string(namespaces.network ?? "")),
        ("ipc", .string(namespaces.ipc ?? "")),
        ("uts", .string(namespaces.uts ?? "")),
        ("user", .string(namespaces.user ?? "")),
      ])),
      ("resolvPath", .string(directory + "/resolv.conf")),
      ("hostsPath", .string(directory + "/hosts")),
      ("hostnamePath", .string(directory + "/hostname")),
      ("shmPath", shmPath.map { .string($0) } ?? .null),
    ])
  }
}
