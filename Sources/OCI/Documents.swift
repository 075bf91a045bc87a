import FoundationEssentials

/// A reference to content by digest (OCI image spec, descriptor).
public struct Descriptor: Codable, Hashable, Sendable {
  public var mediaType: String
  public var digest: Digest
  public var size: Int64
  public var urls: [String]?
  public var annotations: [String: String]?
  public var platform: Platform?

  public init(mediaType: String, digest: Digest, size: Int64, platform: Platform? = nil, annotations: [String: String]? = nil) {
    self.mediaType = mediaType
    self.digest = digest
    self.size = size
    self.platform = platform
    self.annotations = annotations
  }
}

/// An image manifest: OCI, or Docker schema 2 (the same shape).
public struct ImageManifest: Codable, Hashable, Sendable {
  public var schemaVersion: Int
  public var mediaType: String?
  public var config: Descriptor
  public var layers: [Descriptor]
  public var annotations: [String: String]?

  public init(mediaType: String = MediaType.ociManifest, config: Descriptor, layers: [Descriptor], annotations: [String: String]? = nil) {
    schemaVersion = 2
    self.mediaType = mediaType
    self.config = config
    self.layers = layers
    self.annotations = annotations
  }
}

/// An image index: OCI, or a Docker manifest list.
public struct ImageIndex: Codable, Hashable, Sendable {
  public var schemaVersion: Int
  public var mediaType: String?
  public var manifests: [Descriptor]
  public var annotations: [String: String]?

  public init(mediaType: String = MediaType.ociIndex, manifests: [Descriptor]) {
    schemaVersion = 2
    self.mediaType = mediaType
    self.manifests = manifests
  }
}

/// The image configuration: what a container made from the image runs.
public struct ImageConfiguration: Codable, Hashable, Sendable {
  public var created: String?
  public var author: String?
  public var architecture: String
  public var os: String
  public var variant: String?
  public var config: ContainerDefaults?
  public var rootfs: RootFS
  public var history: [History]?

  public init(architecture: String, os: String, config: ContainerDefaults? = nil, rootfs: RootFS) {
    self.architecture = architecture
    self.os = os
    self.config = config
    self.rootfs = rootfs
  }

  public struct RootFS: Codable, Hashable, Sendable {
    public var type: String
    public var diffIDs: [Digest]

    public init(diffIDs: [Digest]) {
      type = "layers"
      self.diffIDs = diffIDs
    }

    enum CodingKeys: String, CodingKey {
      case type
      case diffIDs = "diff_ids"
    }
  }

  public struct History: Codable, Hashable, Sendable {
    public var created: String?
    public var createdBy: String?
    public var comment: String?
    public var emptyLayer: Bool?

    enum CodingKeys: String, CodingKey {
      case created, comment
      case createdBy = "created_by"
      case emptyLayer = "empty_layer"
    }
  }
}

/// The defaults an image gives its containers (the config's `config` object;
/// Docker's capitalised keys are the spec's).
public struct ContainerDefaults: Codable, Hashable, Sendable {
  public var user: String?
  public var exposedPorts: [String: Empty]?
  public var env: [String]?
  public var entrypoint: [String]?
  public var cmd: [String]?
  public var volumes: [String: Empty]?
  public var workingDir: String?
  public var labels: [String: String]?
  public var stopSignal: String?

  public init() {}

  enum CodingKeys: String, CodingKey {
    case user = "User"
    case exposedPorts = "ExposedPorts"
    case env = "Env"
    case entrypoint = "Entrypoint"
    case cmd = "Cmd"
    case volumes = "Volumes"
    case workingDir = "WorkingDir"
    case labels = "Labels"
    case stopSignal = "StopSignal"
  }

  /// `{}` in `ExposedPorts` and `Volumes`.
  public struct Empty: Codable, Hashable, Sendable {
    public init() {}
  }
}

/// Decoding and encoding of image documents.
public enum OCIJSON {
  public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8], kind: String) throws(OCIError) -> T {
    do {
      return try JSONDecoder().decode(type, from: Data(bytes))
    } catch {
      throw .invalidDocument(kind: kind, reason: "\(error)")
    }
  }

  /// Sorted keys, so equal documents encode to equal bytes (and digests).
  public static func encode<T: Encodable>(_ value: T) -> [UInt8] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    // Encoding these plain value types cannot fail.
    return Array((try? encoder.encode(value)) ?? Data())
  }

  /// The media type a manifest-like document declares, for documents served
  /// without a usable Content-Type.
  public static func declaredMediaType(of bytes: [UInt8]) -> String? {
    struct Probe: Decodable {
      var mediaType: String?
      var schemaVersion: Int?
      var manifests: [Descriptor]?
      var layers: [Descriptor]?
    }
    guard let probe = try? JSONDecoder().decode(Probe.self, from: Data(bytes)) else { return nil }
    if let type = probe.mediaType { return type }
    if probe.schemaVersion == 1 { return MediaType.dockerSchema1 }
    if probe.manifests != nil { return MediaType.ociIndex }
    if probe.layers != nil { return MediaType.ociManifest }
    return nil
  }
}
