import CRIAPI
import Config
import GRPCCore

extension CRIRuntimeService {
  public func status(
    request: Runtime_V1_StatusRequest,
    context: GRPCCore.ServerContext
  ) async throws -> Runtime_V1_StatusResponse {
    var runtimeReady = Runtime_V1_RuntimeCondition()
    runtimeReady.type = "RuntimeReady"
    runtimeReady.status = true

    var networkReady = Runtime_V1_RuntimeCondition()
    networkReady.type = "NetworkReady"
    switch daemon.network.readiness {
    case .ready:
      networkReady.status = true
    case .notReady(let reason, let message):
      networkReady.status = false
      networkReady.reason = reason
      networkReady.message = message
    }

    var response = Runtime_V1_StatusResponse()
    response.status.conditions = [runtimeReady, networkReady]
    // Recursive read-only mounts are not announced; user namespaces are
    // where the host can do them (probed at start).
    var features = Runtime_V1_RuntimeHandlerFeatures()
    features.userNamespaces = await daemon.containers.userNamespacesUnsupported == nil
    response.runtimeHandlers = daemon.config.runtime.runtimes.keys.sorted().map { name in
      var handler = Runtime_V1_RuntimeHandler()
      handler.name = name
      handler.features = features
      return handler
    }
    // The default handler is also announced under the empty name, as kubelet
    // looks up pods without a RuntimeClass that way.
    var defaultHandler = Runtime_V1_RuntimeHandler()
    defaultHandler.name = ""
    defaultHandler.features = features
    response.runtimeHandlers.insert(defaultHandler, at: 0)
    response.features = Runtime_V1_RuntimeFeatures()
    if request.verbose {
      response.info = await daemon.verboseInfo()
    }
    return response
  }
}
