import GRPCCore

/// grpc-swift reports an RPC the client gave up on (deadline passed, stream
/// reset) through `context.cancellation`, not by cancelling the handler's
/// task. The handlers here rely on ordinary task cancellation (a pull
/// nobody waits for stops, a creation leaves its result for kubelet's
/// retry), so each runs in a task that this cancels when the RPC is.
struct CancellationInterceptor: ServerInterceptor {
  func intercept<Input: Sendable, Output: Sendable>(
    request: StreamingServerRequest<Input>,
    context: ServerContext,
    next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
  ) async throws -> StreamingServerResponse<Output> {
    // The task ends before this returns (its value is awaited), so `next`
    // does not really escape.
    try await withoutActuallyEscaping(next) { next in
      let handler = Task { try await next(request, context) }
      return try await withTaskCancellationHandler {
        try await withRPCCancellationHandler {
          try await handler.value
        } onCancelRPC: {
          handler.cancel()
        }
      } onCancel: {
        handler.cancel()
      }
    }
  }
}
