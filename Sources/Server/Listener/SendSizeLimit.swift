import GRPCCore
import SwiftProtobuf

/// `grpc_max_send_msg_size`: a response message over the limit ends its RPC
/// with RESOURCE_EXHAUSTED and grpc-go's words, as CRI-O's server does, instead
/// of reaching a client that would fail on its own receive limit or see a
/// broken stream. Only a message's size is checked, never its content.
struct SendSizeLimitInterceptor: ServerInterceptor {
  let limit: Int

  func intercept<Input: Sendable, Output: Sendable>(
    request: StreamingServerRequest<Input>,
    context: ServerContext,
    next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
  ) async throws -> StreamingServerResponse<Output> {
    var response = try await next(request, context)
    guard case .success(var contents) = response.accepted else { return response }
    let (producer, limit) = (contents.producer, limit)
    contents.producer = { writer in
      try await producer(RPCWriter(wrapping: SizeCheckingWriter(base: writer, limit: limit)))
    }
    response.accepted = .success(contents)
    return response
  }
}

/// Passes on messages within the limit; refuses the first one over it.
private struct SizeCheckingWriter<Element: Sendable>: RPCWriterProtocol {
  let base: RPCWriter<Element>
  let limit: Int

  func write(_ element: Element) async throws {
    if let message = element as? any SwiftProtobuf.Message {
      // Serialized once more than gRPC will: a copy of bytes the answer holds
      // anyway, small next to the RPC's own work.
      let size = try (message.serializedBytes() as [UInt8]).count
      if size > limit {
        throw RPCError(
          code: .resourceExhausted,
          message: "grpc: trying to send message larger than max (\(size) vs. \(limit)); raise grpc_max_send_msg_size to allow it")
      }
    }
    try await base.write(element)
  }

  func write(contentsOf elements: some Sequence<Element>) async throws {
    for element in elements { try await write(element) }
  }
}
