import CRIAPI
import GRPCCore
import PodNetwork

extension CRIRuntimeService {
  public func stopPodSandbox(
    request: Runtime_V1_StopPodSandboxRequest,
    context: GRPCCore.ServerContext
  ) async throws -> Runtime_V1_StopPodSandboxResponse {
    // Stopping what is gone or already stopped succeeds: kubelet stops
    // eagerly and more than once.
    if let pod = try await daemon.pods.store.find(request.podSandboxID) {
      try await daemon.stop(pod)
    }
    return Runtime_V1_StopPodSandboxResponse()
  }
}

extension DaemonContext {
  /// Stops the pod's containers (each with its stop signal, SIGKILL after
  /// 10 seconds, as CRI-O), then releases what the pod holds: its namespaces
  /// and its shm mount.
  func stop(_ pod: PodSandbox) async throws(CRIError) {
    // kubelet has stopped each container with the pod's grace period
    // before this; what is left gets CRI-O's 10 seconds.
    let timeout = Duration.seconds(10)
    do {
      try await withThrowingTaskGroup(of: Void.self) { group in
        for container in await containers(of: pod.id) {
          group.addTask { _ = try await self.stop(container, timeout: timeout) }
        }
        try await group.waitForAll()
      }
    } catch let error as CRIError {
      throw error
    } catch {
      throw .internal("stopping the containers of pod \(pod.id): \(error)")
    }
    guard pod.state == .ready else { return }
    var stopped = pod
    if pod.network != nil {
      // Before the namespace goes: plugins find the pod's addresses in it.
      do {
        try await network.cni.delete(network: nil, pod: NetworkContext.podInfo(pod), netnsPath: pod.namespaces.network)
      } catch {
        throw .internal("tearing down the network of pod \(pod.id): \(error)")
      }
      stopped.network = nil
    }
    // Its end kills whatever is left in the shared PID namespace.
    if pod.namespaces.pidInit != nil { await stopInit(podID: pod.id, handler: pod.runtimeHandler) }
    do {
      try NamespacePinner.unpin(pod.namespaces)
    } catch {
      throw .internal("stopping pod \(pod.id): \(error)")
    }
    if let shm = pod.shmPath { PodFiles.unmount(shm) }
    stopped.state = .notReady
    stopped.namespaces = PinnedNamespaces()
    do {
      try await pods.store.save(stopped)
    } catch {
      throw .internal("recording pod \(pod.id) as stopped: \(error)")
    }
    logger.info("Stopped pod sandbox", metadata: ["id": "\(pod.id)", "name": "\(pod.name)"])
  }

  /// Kills the pod's init and removes its runc state and cgroup; an init
  /// already gone is fine.
  func stopInit(podID: String, handler: String) async {
    do {
      try await containers.runtime(handler: handler).delete(id: podID, force: true)
    } catch {
      logger.warning("Cannot remove the pod's init", metadata: ["pod": "\(podID)", "error": "\(error)"])
    }
  }
}
