import OCI
import Registry
import Storage

extension CRIError {
  /// The status a CRI client gets for a failed image operation; the message
  /// keeps the lower layer's words, which name the image, registry or file.
  static func image(_ error: any Error) -> CRIError {
    switch error {
    case let error as CRIError:
      return error
    case let error as RegistryError:
      return registry(error)
    case let error as OCIError:
      switch error {
      case .invalidDigest: return .invalidArgument(error.description)
      case .noMatchingPlatform: return .notFound(error.description)
      case .invalidDocument, .unsupportedMediaType: return .failedPrecondition(error.description)
      }
    case let error as StorageError:
      return storage(error)
    case is CancellationError:
      return .cancelled("the pull was cancelled (the client's deadline passed or it went away)")
    default:
      return .internal("\(error)")
    }
  }

  private static func registry(_ error: RegistryError) -> CRIError {
    let message = error.description
    switch error {
    case .invalidReference: return .invalidArgument(message)
    case .blocked, .rejectedByPolicy: return .permissionDenied(message)
    case .unauthorized: return .unauthenticated(message)
    case .notFound: return .notFound(message)
    case .digestMismatch: return .dataLoss(message)
    case .unsupportedManifest, .invalidConfig: return .failedPrecondition(message)
    case .unavailable, .badResponse: return .unavailable(message)
    case .noProgress: return .deadlineExceeded(message)
    case .cancelled: return .cancelled(message)
    case .localFile: return .internal(message)
    }
  }

  private static func storage(_ error: StorageError) -> CRIError {
    switch error {
    case .unsafePath: return .failedPrecondition("refusing image layer: \(error.description)")
    case .diffIDMismatch, .archive: return .dataLoss(error.description)
    default: return .internal(error.description)
    }
  }
}
