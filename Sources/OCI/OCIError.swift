/// What is wrong with an image's metadata.
public enum OCIError: Error, Sendable, Equatable, CustomStringConvertible {
  case invalidDigest(String, reason: String)
  case invalidDocument(kind: String, reason: String)
  case unsupportedMediaType(String)
  case noMatchingPlatform(wanted: Platform, available: [Platform])

  public var description: String {
    switch self {
    case .invalidDigest(let text, let reason):
      "invalid digest \"\(text)\": \(reason)"
    case .invalidDocument(let kind, let reason):
      "invalid \(kind): \(reason)"
    case .unsupportedMediaType(let type):
      if MediaType.isSchema1(type) {
        "Docker schema 1 manifests (\(type)) are not supported; push the image again with a current client to get a schema 2 or OCI manifest"
      } else {
        "unsupported media type \"\(type)\""
      }
    case .noMatchingPlatform(let wanted, let available):
      "no image for platform \(wanted) in the index (it has: \(available.map(\.description).joined(separator: ", ")))"
    }
  }
}
