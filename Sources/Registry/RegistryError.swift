import OCI

/// Everything that can go wrong resolving, authorising or fetching an image.
/// Each case's description is one line a person can act on: it names the
/// image, registry or file involved and, where there is one, the fix.
public enum RegistryError: Error, Sendable, Equatable, CustomStringConvertible {
  case invalidReference(String, reason: String)
  /// The registry is marked `blocked = true` in registries.conf.
  case blocked(String)
  case rejectedByPolicy(String, reason: String)
  /// 401/403 after the credentials (or their absence) were tried.
  case unauthorized(registry: String, detail: String)
  /// Manifest or blob unknown (404).
  case notFound(what: String)
  case digestMismatch(expected: Digest, actual: String)
  case unsupportedManifest(String)
  /// Connection refused, DNS, TLS, or 5xx/429 after retries.
  case unavailable(host: String, detail: String)
  case noProgress(seconds: Int)
  case cancelled
  case invalidConfig(file: String, detail: String)
  case badResponse(String)
  /// The blob's destination file could not be written.
  case localFile(path: String, detail: String)

  public var description: String {
    switch self {
    case .invalidReference(let text, let reason):
      "invalid image reference \"\(text)\": \(reason)"
    case .blocked(let name):
      "pulling \(name) is not allowed: its registry is blocked in registries.conf"
    case .rejectedByPolicy(let name, let reason):
      "image \(name) is rejected by the signature policy: \(reason)"
    case .unauthorized(let registry, let detail):
      "not authorized to pull from \(registry): \(detail)"
    case .notFound(let what):
      "\(what) not found"
    case .digestMismatch(let expected, let actual):
      "downloaded content does not match its digest \(expected): got \(actual)"
    case .unsupportedManifest(let detail):
      detail
    case .unavailable(let host, let detail):
      "registry \(host) is unavailable: \(detail)"
    case .noProgress(let seconds):
      "download stalled: no data arrived for \(seconds)s"
    case .cancelled:
      "the pull was cancelled"
    case .invalidConfig(let file, let detail):
      "\(file): \(detail)"
    case .badResponse(let detail):
      "unexpected registry response: \(detail)"
    case .localFile(let path, let detail):
      "cannot write \(path): \(detail)"
    }
  }
}
