/// registries.conf v2 (containers-registries.conf(5)): where unqualified
/// names are looked up, which registries are mirrored, insecure or blocked.
public struct RegistriesConf: Sendable, Equatable {
  /// Which mirrors a reference may be pulled from.
  public enum PullFromMirror: String, Sendable, Equatable {
    case all
    case digestOnly = "digest-only"
    case tagOnly = "tag-only"
  }

  public struct Mirror: Sendable, Equatable {
    public var location: String
    public var insecure: Bool
    public var pullFromMirror: PullFromMirror

    public init(location: String, insecure: Bool = false, pullFromMirror: PullFromMirror = .all) {
      self.location = location
      self.insecure = insecure
      self.pullFromMirror = pullFromMirror
    }
  }

  /// One `[[registry]]` table.
  public struct Registry: Sendable, Equatable {
    /// `host[:port][/namespace...]` or `*.domain`; defaults to `location`.
    public var prefix: String
    /// Where the prefix's images really are; empty only for a wildcard
    /// prefix, meaning "the host the reference names".
    public var location: String
    public var insecure: Bool
    public var blocked: Bool
    /// Mirrors are used only for references by digest.
    public var mirrorByDigestOnly: Bool
    public var mirrors: [Mirror]

    public init(
      prefix: String, location: String, insecure: Bool = false, blocked: Bool = false,
      mirrorByDigestOnly: Bool = false, mirrors: [Mirror] = []
    ) {
      self.prefix = prefix
      self.location = location
      self.insecure = insecure
      self.blocked = blocked
      self.mirrorByDigestOnly = mirrorByDigestOnly
      self.mirrors = mirrors
    }
  }

  public var unqualifiedSearchRegistries: [String]
  public var registries: [Registry]
  /// Short name -> fully qualified name (no tag or digest on either side).
  public var aliases: [String: String]
  /// Kept for completeness; CRI-O always tries every candidate in order.
  public var shortNameMode: String?
  /// Keys that were ignored, one line each, for the daemon's log.
  public var warnings: [String]

  public init(
    unqualifiedSearchRegistries: [String] = [], registries: [Registry] = [], aliases: [String: String] = [:],
    shortNameMode: String? = nil, warnings: [String] = []
  ) {
    self.unqualifiedSearchRegistries = unqualifiedSearchRegistries
    self.registries = registries
    self.aliases = aliases
    self.shortNameMode = shortNameMode
    self.warnings = warnings
  }

  /// The fully-qualified references to try for what the user typed, in order:
  /// an alias match; else the reference itself when qualified; else one per
  /// unqualified-search registry (docker.io when none are configured).
  public func candidates(for text: String) throws(RegistryError) -> [ImageReference] {
    let reference = try ImageReference(parsing: text)
    guard reference.isShortName else { return [reference] }
    // The short name as typed ("busybox", not "library/busybox") is what
    // aliases and search registries are combined with.
    let typed = String(ReferenceSyntax.split(text).name)
    if let target = aliases[typed] {
      var aliased = try ImageReference(parsing: target)
      aliased.tag = reference.tag
      aliased.digest = reference.digest
      return [aliased]
    }
    let search = unqualifiedSearchRegistries.isEmpty ? [ImageReference.defaultRegistry] : unqualifiedSearchRegistries
    return search.map { registry in
      ImageReference(
        registry: registry,
        repository: ImageReference.canonicalRepository(typed, registry: registry),
        tag: reference.tag,
        digest: reference.digest)
    }
  }

  /// Where to fetch `reference` from, in order: the mirrors of the
  /// longest-matching `[[registry]]` (that the reference may use), then its
  /// primary location. `extraInsecure` (CRI-O's insecure_registries: hosts or
  /// CIDR ranges) marks more endpoints insecure.
  public func endpoints(for reference: ImageReference, extraInsecure: [String] = []) throws(RegistryError) -> [Endpoint] {
    func isExtraInsecure(_ host: String) -> Bool {
      extraInsecure.contains { HostPattern.matches(host: host, pattern: $0) }
    }
    let name = reference.name
    guard let entry = registry(for: name) else {
      return [
        Endpoint(host: reference.registry, repository: reference.repository, insecure: isExtraInsecure(reference.registry))
      ]
    }
    if entry.blocked { throw .blocked(name) }
    var result: [Endpoint] = []
    let byDigest = reference.digest != nil
    if byDigest || !entry.mirrorByDigestOnly {
      for mirror in entry.mirrors {
        switch mirror.pullFromMirror {
        case .digestOnly where !byDigest, .tagOnly where byDigest: continue
        default: break
        }
        var endpoint = try Self.rewrite(name, prefix: entry.prefix, location: mirror.location)
        endpoint.insecure = mirror.insecure || isExtraInsecure(endpoint.host)
        endpoint.isMirror = true
        result.append(endpoint)
      }
    }
    var primary =
      entry.location.isEmpty
      ? Endpoint(host: reference.registry, repository: reference.repository)
      : try Self.rewrite(name, prefix: entry.prefix, location: entry.location)
    primary.insecure = entry.insecure || isExtraInsecure(primary.host)
    result.append(primary)
    return result
  }

  /// The `[[registry]]` whose prefix matches `name` longest, as
  /// containers-image picks it.
  public func registry(for name: String) -> Registry? {
    var best: Registry?
    for entry in registries where Self.matchLength(name, prefix: entry.prefix) != nil {
      if entry.prefix.count > (best?.prefix.count ?? -1) { best = entry }
    }
    return best
  }

  /// How much of `name` the prefix covers, or nil if it does not match. A
  /// prefix matches whole path components only; `*.example.com` matches any
  /// subdomain's host component.
  static func matchLength(_ name: String, prefix: String) -> Int? {
    let nameBytes = Array(name.utf8)
    if prefix.hasPrefix("*.") {
      let suffix = Array(prefix.utf8.dropFirst())
      let hostEnd = nameBytes.firstIndex(of: UInt8(ascii: "/")) ?? nameBytes.count
      let host = nameBytes[..<hostEnd]
      // The host, without a port, must end in ".domain".
      let bareEnd = host.firstIndex(of: UInt8(ascii: ":")) ?? hostEnd
      let bare = nameBytes[..<bareEnd]
      guard bare.count > suffix.count, bare.suffix(suffix.count).elementsEqual(suffix) else { return nil }
      return bareEnd
    }
    let prefixBytes = Array(prefix.utf8)
    guard nameBytes.count >= prefixBytes.count, nameBytes.starts(with: prefixBytes) else { return nil }
    if nameBytes.count == prefixBytes.count { return prefixBytes.count }
    return nameBytes[prefixBytes.count] == UInt8(ascii: "/") ? prefixBytes.count : nil
  }

  /// `name` with the part the prefix matched replaced by `location`.
  static func rewrite(_ name: String, prefix: String, location: String) throws(RegistryError) -> Endpoint {
    let matched = matchLength(name, prefix: prefix) ?? 0
    let rewritten = location + String(decoding: Array(name.utf8)[matched...], as: UTF8.self)
    guard let slash = rewritten.firstIndex(of: "/"), rewritten.index(after: slash) < rewritten.endIndex else {
      throw .invalidReference(rewritten, reason: "rewriting \(name) for location \"\(location)\" leaves no repository")
    }
    let host = ImageReference.canonicalRegistry(rewritten[..<slash])
    let repository = ImageReference.canonicalRepository(String(rewritten[rewritten.index(after: slash)...]), registry: host)
    return Endpoint(host: host, repository: repository)
  }
}
