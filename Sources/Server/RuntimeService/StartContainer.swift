import CRIAPI
import GRPCCore

extension CRIRuntimeService {
  public func startContainer(
    request: Runtime_V1_StartContainerRequest,
    context: GRPCCore.ServerContext
  ) async throws -> Runtime_V1_StartContainerResponse {
    let record = try await daemon.container(request.containerID)
    guard record.state == .created else {
      throw CRIError.failedPrecondition("container \(record.id) is \(record.state.rawValue); only a created container can be started")
    }
    let runtime = try daemon.containers.runtime(for: record)
    // Taken before runc starts it: a short-lived process may have exited
    // (and conmon written its exit file) before runc returns.
    let startedAt = DaemonContext.now()
    do {
      try await runtime.start(id: record.id)
    } catch {
      throw CRIError.internal("starting container \(record.id): \(error)")
    }
    var started = record
    started.state = .running
    started.startedAt = startedAt
    try await daemon.containers.store.save(started)
    daemon.logger.info("Started container", metadata: ["id": "\(record.id)", "name": "\(record.name)"])
    return Runtime_V1_StartContainerResponse()
  }
}

extension DaemonContext {
  /// A container by ID or unique prefix, as it is now; NotFound otherwise.
  func container(_ idOrPrefix: String) async throws(CRIError) -> ContainerRecord {
    guard let record = try await containers.store.find(idOrPrefix) else {
      throw .notFound("container \"\(idOrPrefix)\" not found")
    }
    return await refreshed(record)
  }

  /// A pod by ID or unique prefix; NotFound otherwise.
  func pod(_ idOrPrefix: String) async throws(CRIError) -> PodSandbox {
    guard let pod = try await pods.store.find(idOrPrefix) else {
      throw .notFound("pod sandbox \"\(idOrPrefix)\" not found")
    }
    return pod
  }

  /// A pod that must still have its namespaces (streaming into it).
  func readyPod(_ idOrPrefix: String) async throws(CRIError) -> PodSandbox {
    let pod = try await pod(idOrPrefix)
    guard pod.state == .ready else {
      throw .failedPrecondition("pod sandbox \(pod.id) is not ready")
    }
    return pod
  }
}
