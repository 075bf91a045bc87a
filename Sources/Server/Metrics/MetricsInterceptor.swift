import GRPCCore

/// Counts and times every CRI call as CRI-O's unary interceptor does: by
/// bare method name, errors included. The server-streaming
/// GetContainerEvents is left out, as CRI-O's stream interceptor records
/// nothing: its "latency" is the subscription's life.
struct MetricsInterceptor: ServerInterceptor {
  let metrics: CrioMetrics

  func intercept<Input: Sendable, Output: Sendable>(
    request: StreamingServerRequest<Input>,
    context: ServerContext,
    next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
  ) async throws -> StreamingServerResponse<Output> {
    let operation = context.descriptor.method
    guard operation != "GetContainerEvents" else { return try await next(request, context) }
    let started = ContinuousClock.now
    do {
      let response = try await next(request, context)
      // A unary handler's error may come back as a response rather than thrown.
      let failed: Bool
      if case .failure = response.accepted { failed = true } else { failed = false }
      metrics.recordOperation(operation, duration: ContinuousClock.now - started, failed: failed)
      return response
    } catch {
      metrics.recordOperation(operation, duration: ContinuousClock.now - started, failed: true)
      throw error
    }
  }
}
