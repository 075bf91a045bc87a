import OCI
import Support

/// Why a storage operation failed. Layer extraction reports hostile archives as
/// `.unsafePath` and broken ones as `.archive`, so the daemon can tell a
/// malicious image from a damaged download.
public enum StorageError: Error, Sendable, Equatable, CustomStringConvertible {
  /// An archive entry would be written (or linked) outside the layer root.
  case unsafePath(entry: String, reason: String)
  /// The uncompressed layer does not hash to the diffID the image config names.
  case diffIDMismatch(expected: Digest, actual: Digest)
  /// Bytes handed to `BlobStore.write` do not hash to the digest they were given as.
  case digestMismatch(expected: Digest, actual: Digest)
  /// A corrupt, truncated or unsupported archive (libarchive's message), or an
  /// entry that cannot be represented.
  case archive(String)
  case io(SystemError)
  case database(String)
  case notFound(String)

  public var description: String {
    switch self {
    case .unsafePath(let entry, let reason):
      "unsafe path in layer archive \"\(entry)\": \(reason)"
    case .diffIDMismatch(let expected, let actual):
      "layer diffID mismatch: the image config says \(expected) but the uncompressed layer is \(actual)"
    case .digestMismatch(let expected, let actual):
      "blob digest mismatch: expected \(expected), got \(actual)"
    case .archive(let message):
      "layer archive: \(message)"
    case .io(let error):
      error.description
    case .database(let message):
      "image database: \(message)"
    case .notFound(let what):
      "not found: \(what)"
    }
  }
}
