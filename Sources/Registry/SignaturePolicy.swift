import FoundationEssentials
import OCI
import Support

/// What the signature policy says about one image.
public enum PolicyDecision: Sendable, Equatable {
  case accept
  case reject(reason: String)
}

/// containers-policy.json(5), for the `docker` transport. Only the
/// requirements that need no signature are implemented; a scope that demands
/// signatures rejects, saying why, rather than accepting unverified images.
public struct SignaturePolicy: Sendable, Equatable {
  public enum Requirement: Sendable, Equatable {
    case insecureAcceptAnything
    case reject
    /// signedBy, sigstoreSigned, ...: signature verification is not supported.
    case requiresSignature(type: String)
  }

  public var defaultRequirements: [Requirement]
  /// `transports.docker`: scope -> requirements.
  public var dockerScopes: [String: [Requirement]]

  public init(defaultRequirements: [Requirement], dockerScopes: [String: [Requirement]] = [:]) {
    self.defaultRequirements = defaultRequirements
    self.dockerScopes = dockerScopes
  }

  public static let acceptAnything = SignaturePolicy(defaultRequirements: [.insecureAcceptAnything])

  /// A missing file is an error, as in CRI-O: a node without a policy
  /// must not silently accept everything.
  public static func load(path: String) throws(RegistryError) -> SignaturePolicy {
    let bytes: [UInt8]
    do {
      bytes = try Files.readBytes(path)
    } catch {
      throw .invalidConfig(file: path, detail: "cannot read the signature policy: \(error.reason)")
    }
    return try parse(json: bytes, file: path)
  }

  public static func parse(json: [UInt8], file: String) throws(RegistryError) -> SignaturePolicy {
    struct RawRequirement: Decodable {
      var type: String
    }
    struct RawPolicy: Decodable {
      var `default`: [RawRequirement]?
      var transports: [String: [String: [RawRequirement]]]?
    }
    let raw: RawPolicy
    do {
      raw = try JSONDecoder().decode(RawPolicy.self, from: Data(json))
    } catch let error as DecodingError {
      throw .invalidConfig(file: file, detail: "invalid policy: \(Self.explain(error))")
    } catch {
      throw .invalidConfig(file: file, detail: "invalid policy: \(error)")
    }
    func requirements(_ list: [RawRequirement], scope: String) throws(RegistryError) -> [Requirement] {
      guard !list.isEmpty else {
        throw .invalidConfig(file: file, detail: "\(scope) has no requirements; use [{\"type\": \"reject\"}] to refuse everything")
      }
      var result: [Requirement] = []
      for entry in list {
        switch entry.type {
        case "insecureAcceptAnything": result.append(.insecureAcceptAnything)
        case "reject": result.append(.reject)
        case "signedBy", "sigstoreSigned", "signedBaseLayer": result.append(.requiresSignature(type: entry.type))
        default:
          throw .invalidConfig(file: file, detail: "\(scope): unknown requirement type \"\(entry.type)\"")
        }
      }
      return result
    }
    guard let defaults = raw.default else {
      throw .invalidConfig(file: file, detail: "the \"default\" requirements are missing")
    }
    var policy = SignaturePolicy(defaultRequirements: try requirements(defaults, scope: "default"))
    for (scope, list) in raw.transports?["docker"] ?? [:] {
      policy.dockerScopes[scope] = try requirements(list, scope: "transports.docker \"\(scope)\"")
    }
    return policy
  }

  /// Applies the most specific matching scope's requirements: every one of
  /// them must accept.
  public func evaluate(_ reference: ImageReference) -> PolicyDecision {
    let (scope, requirements) = self.requirements(for: reference)
    for requirement in requirements {
      switch requirement {
      case .insecureAcceptAnything:
        continue
      case .reject:
        return .reject(reason: "policy scope \(scope) rejects it")
      case .requiresSignature(let type):
        return .reject(
          reason:
            "policy scope \(scope) requires a \(type) signature, and signature verification is not supported by this runtime")
      }
    }
    return .accept
  }

  /// Throws `.rejectedByPolicy` unless the policy accepts `reference`.
  public func check(_ reference: ImageReference) throws(RegistryError) {
    if case .reject(let reason) = evaluate(reference) {
      throw .rejectedByPolicy(reference.description, reason: reason)
    }
  }

  /// The scope that applies and its requirements, most specific first:
  /// `host/repo:tag` (or `@digest`), `host/repo`, each parent namespace,
  /// `host`, `*.domain` from the longest, the transport default `""`, then
  /// the global default.
  func requirements(for reference: ImageReference) -> (scope: String, requirements: [Requirement]) {
    for scope in Self.scopes(for: reference) {
      if let found = dockerScopes[scope] { return ("\"\(scope)\"", found) }
    }
    if let transportDefault = dockerScopes[""] { return ("transports.docker \"\"", transportDefault) }
    return ("default", defaultRequirements)
  }

  static func scopes(for reference: ImageReference) -> [String] {
    var scopes: [String] = []
    if let tag = reference.tag { scopes.append(reference.name + ":" + tag) }
    if let digest = reference.digest { scopes.append(reference.name + "@" + digest.description) }
    var namespace = Substring(reference.name)
    scopes.append(String(namespace))
    while let slash = namespace.lastIndex(of: "/") {
      namespace = namespace[..<slash]
      scopes.append(String(namespace))
    }
    // Wildcard scopes drop the host's labels one by one; like
    // containers-image, the port stays on ("*.example.com:5000").
    var host = Substring(reference.registry)
    while let dot = host.firstIndex(of: ".") {
      host = host[host.index(after: dot)...]
      scopes.append("*." + host)
    }
    return scopes
  }

  /// One line for a JSON decoding failure: where, and what was wrong.
  static func explain(_ error: DecodingError) -> String {
    func path(_ context: DecodingError.Context) -> String {
      let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
      return keys.isEmpty ? "" : " at " + keys.joined(separator: ".")
    }
    switch error {
    case .typeMismatch(let type, let context): return "expected \(type)\(path(context))"
    case .valueNotFound(let type, let context): return "missing \(type)\(path(context))"
    case .keyNotFound(let key, let context): return "missing key \"\(key.stringValue)\"\(path(context))"
    case .dataCorrupted(let context): return "malformed JSON\(path(context)): \(context.debugDescription)"
    @unknown default: return "\(error)"
    }
  }
}
