import OCI
import Registry

/// The `error` label CRI-O gives a failed pull: the registry error code
/// (docker distribution's names) the failure corresponds to, a connection
/// failure, or UNKNOWN.
enum PullFailureReason {
  static func label(for error: any Error) -> String {
    switch error {
    case let error as RegistryError:
      switch error {
      case .invalidReference: return "NAME_INVALID"
      case .blocked, .rejectedByPolicy: return "DENIED"
      case .unauthorized: return "UNAUTHORIZED"
      case .notFound(let what): return what.contains("blob") ? "BLOB_UNKNOWN" : "MANIFEST_UNKNOWN"
      case .digestMismatch: return "DIGEST_INVALID"
      case .unsupportedManifest: return "UNSUPPORTED"
      case .unavailable(_, let detail):
        if detail.contains("refused") { return "CONNECTION_REFUSED" }
        if detail.contains("timed out") { return "CONNECTION_TIMEOUT" }
        return "UNAVAILABLE"
      case .noProgress: return "CONNECTION_TIMEOUT"
      default: return "UNKNOWN"
      }
    case let error as OCIError:
      switch error {
      case .unsupportedMediaType: return "UNSUPPORTED"
      case .noMatchingPlatform: return "UNKNOWN"
      default: return "MANIFEST_INVALID"
      }
    default:
      return "UNKNOWN"
    }
  }
}
