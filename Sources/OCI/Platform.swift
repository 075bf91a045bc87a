#if canImport(Glibc)
import Glibc
#endif

/// An OS/architecture/variant triple, as in image indexes.
public struct Platform: Codable, Hashable, Sendable, CustomStringConvertible {
  public var architecture: String
  public var os: String
  public var variant: String?
  public var osVersion: String?
  public var osFeatures: [String]?

  public init(os: String, architecture: String, variant: String? = nil) {
    self.os = os
    self.architecture = architecture
    self.variant = variant
  }

  enum CodingKeys: String, CodingKey {
    case architecture, os, variant
    case osVersion = "os.version"
    case osFeatures = "os.features"
  }

  public var description: String {
    [os, architecture, variant].compactMap { $0 }.joined(separator: "/")
  }

  /// The node's own platform, named as Go (and so every image) names it.
  public static var current: Platform {
    #if arch(x86_64)
    Platform(os: "linux", architecture: "amd64")
    #elseif arch(arm64)
    Platform(os: "linux", architecture: "arm64", variant: "v8")
    #elseif arch(arm)
    Platform(os: "linux", architecture: "arm", variant: "v7")
    #elseif arch(s390x)
    Platform(os: "linux", architecture: "s390x")
    #elseif arch(powerpc64le)
    Platform(os: "linux", architecture: "ppc64le")
    #else
    Platform(os: "linux", architecture: "unknown")
    #endif
  }

  /// Picks the manifest for `platform` from an index, as containerd's
  /// platform matcher does: os and architecture must match; an exact variant
  /// wins, then an entry without a variant (arm64's v8 is the default).
  public static func select(from manifests: [Descriptor], for platform: Platform = .current) throws(OCIError) -> Descriptor {
    let candidates = manifests.filter { descriptor in
      guard let entry = descriptor.platform else { return false }
      return entry.os == platform.os && entry.architecture == platform.architecture
    }
    func normalizedVariant(_ variant: String?, _ architecture: String) -> String? {
      if architecture == "arm64" && (variant == nil || variant == "") { return "v8" }
      return variant == "" ? nil : variant
    }
    let wanted = normalizedVariant(platform.variant, platform.architecture)
    if let exact = candidates.first(where: { normalizedVariant($0.platform?.variant, platform.architecture) == wanted }) {
      return exact
    }
    if let plain = candidates.first(where: { ($0.platform?.variant ?? "").isEmpty }) {
      return plain
    }
    throw .noMatchingPlatform(wanted: platform, available: manifests.compactMap(\.platform))
  }
}
