import GRPCCore
import Logging

/// Logs every RPC at debug level with its duration and outcome, as CRI-O's
/// request logging does; a failed RPC is logged with its status code.
struct RequestLogInterceptor: ServerInterceptor {
  let logger: Logger

  func intercept<Input: Sendable, Output: Sendable>(
    request: StreamingServerRequest<Input>,
    context: ServerContext,
    next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
  ) async throws -> StreamingServerResponse<Output> {
    guard logger.logLevel <= .debug else {
      return try await next(request, context)
    }
    let started = ContinuousClock.now
    let method = context.descriptor.fullyQualifiedMethod
    do {
      let response = try await next(request, context)
      logger.debug("RPC served", metadata: ["method": "\(method)", "duration": "\(ContinuousClock.now - started)"])
      return response
    } catch {
      logger.debug("RPC failed", metadata: ["method": "\(method)", "duration": "\(ContinuousClock.now - started)", "error": "\(error)"])
      throw error
    }
  }
}
