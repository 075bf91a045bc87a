import Config
import PodNetwork
import Runtime
import Support

/// The one mapping from the modules' typed errors to the status a CRI client
/// gets; the lower layer's words stay in the message, after `context`, so a
/// person sees both what was being done and what runc, CNI or the kernel said.
extension CRIError {
  static func runtime(_ error: RuntimeError, _ context: String) -> CRIError {
    let message = "\(context): \(error)"
    switch error {
    case .notFound: return .notFound(message)
    case .timedOut: return .deadlineExceeded(message)
    case .invalidSpec: return .invalidArgument(message)
    case .system, .createFailed, .conmonFailed, .runtimeFailed, .invalidOutput, .monitorUnreachable, .monitorDied, .monitorFailed:
      return .internal(message)
    }
  }

  /// Any error of a lower module, mapped by its type.
  static func from(_ error: any Error, _ context: String) -> CRIError {
    switch error {
    case let error as CRIError: return error
    case let error as RuntimeError: return runtime(error, context)
    case let error as NamespaceError: return .internal("\(context): \(error)")
    case let error as CNIError: return .internal("\(context): \(error)")
    case let error as ConfigError: return .invalidArgument("\(context): \(error)")
    case let error as SystemError: return .internal("\(context): \(error)")
    case is CancellationError: return .cancelled("\(context): cancelled (the client's deadline passed or it went away)")
    default: return .internal("\(context): \(error)")
    }
  }
}
