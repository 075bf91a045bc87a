import CRIAPI
import GRPCCore
import Support

extension CRIRuntimeService {
  public func podSandboxStatus(
    request: Runtime_V1_PodSandboxStatusRequest,
    context: GRPCCore.ServerContext
  ) async throws -> Runtime_V1_PodSandboxStatusResponse {
    let pod = try await daemon.pod(request.podSandboxID)
    let config = pod.configMessage
    var status = Runtime_V1_PodSandboxStatus()
    status.id = pod.id
    status.metadata = config.metadata
    status.state = pod.criState
    status.createdAt = pod.createdAt
    status.network = Runtime_V1_PodSandboxNetworkStatus()
    if let ips = pod.network?.ips, let first = ips.first {
      status.network.ip = first
      status.network.additionalIps = ips.dropFirst().map { ip in .with { $0.ip = ip } }
    }
    status.linux.namespaces.options = config.linux.securityContext.namespaceOptions
    status.labels = config.labels
    status.annotations = config.annotations
    status.runtimeHandler = pod.runtimeHandler
    var response = Runtime_V1_PodSandboxStatusResponse()
    response.status = status
    if request.verbose {
      response.info = ["info": pod.verboseInfo().rendered()]
    }
    return response
  }
}

extension PodSandbox {
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
