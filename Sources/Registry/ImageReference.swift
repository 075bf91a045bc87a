import OCI

/// A Docker/containers-image style image reference, normalised as Docker
/// normalises it: `busybox` is `docker.io/library/busybox:latest`.
public struct ImageReference: Hashable, Sendable, CustomStringConvertible {
  public static let defaultRegistry = "docker.io"

  /// `docker.io`, `localhost:5000`, `127.0.0.1:5000`, `[::1]:5000`.
  public var registry: String
  /// `library/busybox`.
  public var repository: String
  /// Nil only when a digest was given without a tag.
  public var tag: String?
  public var digest: Digest?
  /// True when the text named no registry, so registries.conf's
  /// unqualified-search-registries (or an alias) decide where it comes from.
  /// Not part of equality: `busybox` and `docker.io/library/busybox` are one image.
  public var isShortName: Bool

  /// Builds a reference from parts that are already valid (for example ones
  /// taken from another reference); nothing is checked.
  public init(registry: String, repository: String, tag: String? = nil, digest: Digest? = nil, isShortName: Bool = false) {
    self.registry = registry
    self.repository = repository
    self.tag = tag
    self.digest = digest
    self.isShortName = isShortName
  }

  /// Parses `[registry/]repository[:tag][@digest]`. Without a tag or digest
  /// the tag is `latest`.
  public init(parsing text: String) throws(RegistryError) {
    func invalid(_ reason: String) -> RegistryError { .invalidReference(text, reason: reason) }
    guard !text.isEmpty else { throw invalid("empty reference") }
    let parts = ReferenceSyntax.split(text)
    // Docker refuses a bare 64-hex name: it would be taken for an image ID.
    if parts.tag == nil, parts.digest == nil, parts.name.utf8.count == 64,
      parts.name.utf8.allSatisfy({ ReferenceSyntax.isDigit($0) || (97...102).contains($0) })
    {
      throw invalid("a 64-character hexadecimal string is an image ID, not a repository name")
    }
    let (domain, path) = ReferenceSyntax.splitDomain(parts.name)
    if let domain, let problem = ReferenceSyntax.domainProblem(domain) { throw invalid(problem) }
    if let problem = ReferenceSyntax.pathProblem(path) { throw invalid(problem) }
    if let tag = parts.tag, let problem = ReferenceSyntax.tagProblem(tag) { throw invalid(problem) }
    var digest: Digest?
    if let digestText = parts.digest {
      do {
        digest = try Digest(parsing: String(digestText))
      } catch {
        throw invalid(error.description)
      }
    }
    let registry = domain.map(Self.canonicalRegistry) ?? Self.defaultRegistry
    let repository = Self.canonicalRepository(String(path), registry: registry)
    // The limit is on the full name, as Docker checks it after normalising:
    // "busybox" is "docker.io/library/busybox", and that is what gets printed
    // and parsed again (image records, logs).
    guard registry.utf8.count + 1 + repository.utf8.count <= ReferenceSyntax.maximumNameLength else {
      throw invalid("repository name longer than \(ReferenceSyntax.maximumNameLength) characters")
    }
    self.init(
      registry: registry,
      repository: repository,
      tag: parts.tag.map(String.init) ?? (digest == nil ? "latest" : nil),
      digest: digest,
      isShortName: domain == nil)
  }

  /// `index.docker.io` is Docker Hub's old name.
  static func canonicalRegistry(_ domain: Substring) -> String {
    domain == "index.docker.io" ? defaultRegistry : String(domain)
  }

  /// Docker Hub's official images live under `library/`.
  static func canonicalRepository(_ path: String, registry: String) -> String {
    registry == defaultRegistry && !path.contains("/") ? "library/" + path : path
  }

  /// `docker.io/library/busybox`.
  public var name: String { registry + "/" + repository }

  /// `name:tag`, `name@digest` or `name:tag@digest`.
  public var description: String {
    var text = name
    if let tag { text += ":" + tag }
    if let digest { text += "@" + digest.description }
    return text
  }

  /// The last part of `/v2/<repository>/manifests/<reference>`: the digest
  /// when there is one (it pins the content), else the tag.
  public var tagOrDigest: String { digest?.description ?? tag ?? "latest" }

  /// This image pinned to `digest`, as recorded in an image's repo digests.
  public func withDigest(_ digest: Digest) -> ImageReference {
    var copy = self
    copy.digest = digest
    return copy
  }

  public static func == (lhs: ImageReference, rhs: ImageReference) -> Bool {
    lhs.registry == rhs.registry && lhs.repository == rhs.repository && lhs.tag == rhs.tag && lhs.digest == rhs.digest
  }

  public func hash(into hasher: inout Hasher) {
    hasher.combine(registry)
    hasher.combine(repository)
    hasher.combine(tag)
    hasher.combine(digest)
  }
}
