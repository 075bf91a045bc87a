import GRPCCore

/// The one error type the CRI services throw. Each case names the gRPC status
/// a CRI client expects, so the mapping lives here and nowhere else; the
/// message is what a person reading crictl's or kubelet's output acts on.
public enum CRIError: Error, Sendable, Equatable {
  case invalidArgument(String)
  case notFound(String)
  case alreadyExists(String)
  case failedPrecondition(String)
  case resourceExhausted(String)
  case permissionDenied(String)
  case unauthenticated(String)
  case dataLoss(String)
  case cancelled(String)
  case deadlineExceeded(String)
  case unavailable(String)
  /// An RPC this daemon does not implement (yet); the message names it.
  case unimplemented(rpc: String)
  case `internal`(String)
}

extension CRIError: RPCErrorConvertible {
  public var rpcErrorCode: RPCError.Code {
    switch self {
    case .invalidArgument: .invalidArgument
    case .notFound: .notFound
    case .alreadyExists: .alreadyExists
    case .failedPrecondition: .failedPrecondition
    case .resourceExhausted: .resourceExhausted
    case .permissionDenied: .permissionDenied
    case .unauthenticated: .unauthenticated
    case .dataLoss: .dataLoss
    case .cancelled: .cancelled
    case .deadlineExceeded: .deadlineExceeded
    case .unavailable: .unavailable
    case .unimplemented: .unimplemented
    case .internal: .internalError
    }
  }

  public var rpcErrorMessage: String {
    switch self {
    case .invalidArgument(let m), .notFound(let m), .alreadyExists(let m),
      .failedPrecondition(let m), .resourceExhausted(let m), .deadlineExceeded(let m),
      .permissionDenied(let m), .unauthenticated(let m), .dataLoss(let m), .cancelled(let m),
      .unavailable(let m), .internal(let m):
      m
    case .unimplemented(let rpc):
      "\(rpc) is not implemented by this runtime yet"
    }
  }
}

extension CRIError: CustomStringConvertible {
  public var description: String { "\(rpcErrorCode): \(rpcErrorMessage)" }
}

extension CRIError {
  /// The same status with `context` before the message (what the caller
  /// was doing when a lower layer failed).
  func prefixed(_ context: String) -> CRIError {
    let message = context + ": " + rpcErrorMessage
    return switch self {
    case .invalidArgument: .invalidArgument(message)
    case .notFound: .notFound(message)
    case .alreadyExists: .alreadyExists(message)
    case .failedPrecondition: .failedPrecondition(message)
    case .resourceExhausted: .resourceExhausted(message)
    case .permissionDenied: .permissionDenied(message)
    case .unauthenticated: .unauthenticated(message)
    case .dataLoss: .dataLoss(message)
    case .cancelled: .cancelled(message)
    case .deadlineExceeded: .deadlineExceeded(message)
    case .unavailable: .unavailable(message)
    case .unimplemented, .internal: .internal(message)
    }
  }
}
