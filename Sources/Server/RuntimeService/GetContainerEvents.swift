import CRIAPI
import GRPCCore

extension CRIRuntimeService {
  /// kubelet's evented PLEG: the stream of container events from now on,
  /// until the client goes away. As CRI-O 1.26, with `enable_pod_events =
  /// false` the stream ends at once (kubelet then keeps relisting). A
  /// subscriber that falls too far behind is dropped with RESOURCE_EXHAUSTED.
  public func getContainerEvents(
    request: Runtime_V1_GetEventsRequest,
    response: GRPCCore.RPCWriter<Runtime_V1_ContainerEventResponse>,
    context: GRPCCore.ServerContext
  ) async throws {
    guard daemon.events.enabled else { return }
    let subscription = daemon.events.subscribe()
    defer { subscription.finish() }
    do {
      for try await event in subscription {
        try await response.write(event)
      }
    } catch let overflow as ContainerEventHub.Subscription.Overflow {
      throw CRIError.resourceExhausted(overflow.description)
    }
  }
}
