import AsyncHTTPClient
import FoundationEssentials
import NIOCore
import NIOHTTP1
import OCI

/// What `ImagePusher.pushImage` stored.
public struct PushedImage: Sendable {
  public var manifestDigest: Digest
  public var configDigest: Digest
  public var manifest: ImageManifest
  public var manifestBytes: [UInt8]
  public var configBytes: [UInt8]
  /// The manifest's media type.
  public var mediaType: String

  /// The manifest's descriptor, for an index.
  public func descriptor(platform: Platform? = nil) -> Descriptor {
    Descriptor(mediaType: mediaType, digest: manifestDigest, size: Int64(manifestBytes.count), platform: platform)
  }
}

/// Pushes images through a registry's HTTP API (monolithic blob uploads,
/// manifest PUTs), over plain HTTP as the fixture registry serves it.
public struct ImagePusher: Sendable {
  public let host: String
  private let authorization: String?

  public init(host: String, credentials: (String, String)? = nil) {
    self.host = host
    authorization = credentials.map { "Basic " + Data("\($0.0):\($0.1)".utf8).base64EncodedString() }
  }

  /// Uploads a blob (POST to start, PUT with the digest to finish).
  @discardableResult
  public func pushBlob(repository: String, bytes: [UInt8]) async throws -> Digest {
    let digest = Digest.sha256(of: bytes)
    var post = HTTPClientRequest(url: "http://\(host)/v2/\(repository)/blobs/uploads/")
    post.method = .POST
    let start = try await send(post, body: [])
    guard start.status == 202, let location = start.location else {
      throw RegistryFixtureError("starting a blob upload to \(repository) got HTTP \(start.status): \(start.body)")
    }
    // The registry answers with an absolute URL or a path.
    let base = location.hasPrefix("http") ? location : "http://\(host)\(location)"
    let separator = base.contains("?") ? "&" : "?"
    var put = HTTPClientRequest(url: base + separator + "digest=" + digest.description.replacingColons)
    put.method = .PUT
    let finish = try await send(put, body: bytes, contentType: "application/octet-stream")
    guard finish.status == 201 else {
      throw RegistryFixtureError("finishing a blob upload to \(repository) got HTTP \(finish.status): \(finish.body)")
    }
    return digest
  }

  /// PUTs a manifest or index under `reference` (a tag or its digest).
  @discardableResult
  public func pushManifest(repository: String, reference: String, mediaType: String, bytes: [UInt8]) async throws -> Digest {
    var put = HTTPClientRequest(url: "http://\(host)/v2/\(repository)/manifests/\(reference)")
    put.method = .PUT
    let response = try await send(put, body: bytes, contentType: mediaType)
    guard response.status == 201 else {
      throw RegistryFixtureError("pushing manifest \(repository):\(reference) got HTTP \(response.status): \(response.body)")
    }
    return Digest.sha256(of: bytes)
  }

  /// Pushes layers (already compressed), the configuration (its diff IDs set
  /// from the layers) and a manifest tagged `tag`.
  public func pushImage(
    repository: String, tag: String, layers: [(bytes: [UInt8], mediaType: String, diffID: Digest)],
    config: ImageConfiguration, manifestMediaType: String = MediaType.ociManifest
  ) async throws -> PushedImage {
    var config = config
    config.rootfs = ImageConfiguration.RootFS(diffIDs: layers.map(\.diffID))
    let configBytes = OCIJSON.encode(config)
    let configDigest = try await pushBlob(repository: repository, bytes: configBytes)
    var layerDescriptors: [Descriptor] = []
    for layer in layers {
      let digest = try await pushBlob(repository: repository, bytes: layer.bytes)
      layerDescriptors.append(Descriptor(mediaType: layer.mediaType, digest: digest, size: Int64(layer.bytes.count)))
    }
    let configType = manifestMediaType == MediaType.dockerManifest ? MediaType.dockerConfig : MediaType.ociConfig
    let manifest = ImageManifest(
      mediaType: manifestMediaType,
      config: Descriptor(mediaType: configType, digest: configDigest, size: Int64(configBytes.count)),
      layers: layerDescriptors)
    let manifestBytes = OCIJSON.encode(manifest)
    let manifestDigest = try await pushManifest(
      repository: repository, reference: tag, mediaType: manifestMediaType, bytes: manifestBytes)
    return PushedImage(
      manifestDigest: manifestDigest, configDigest: configDigest, manifest: manifest, manifestBytes: manifestBytes,
      configBytes: configBytes, mediaType: manifestMediaType)
  }

  /// Pushes an index of already pushed images, tagged `tag`.
  @discardableResult
  public func pushIndex(
    repository: String, tag: String, manifests: [(image: PushedImage, platform: Platform)],
    mediaType: String = MediaType.ociIndex
  ) async throws -> Digest {
    let index = ImageIndex(mediaType: mediaType, manifests: manifests.map { $0.image.descriptor(platform: $0.platform) })
    return try await pushManifest(repository: repository, reference: tag, mediaType: mediaType, bytes: OCIJSON.encode(index))
  }

  private struct Answer {
    var status: UInt
    var location: String?
    var body: String
  }

  /// Sends `request` with the pusher's credentials; `body` (when given) with
  /// its content type.
  private func send(_ request: HTTPClientRequest, body: [UInt8], contentType: String? = nil) async throws -> Answer {
    var request = request
    if let authorization { request.headers.add(name: "Authorization", value: authorization) }
    if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
    request.body = .bytes(body)
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
    let text = try await response.body.collect(upTo: 1 << 20)
    return Answer(status: response.status.code, location: response.headers.first(name: "Location"), body: String(buffer: text))
  }
}

extension String {
  /// The digest in an upload URL's query: ":" is escaped.
  fileprivate var replacingColons: String {
    split(separator: ":", omittingEmptySubsequences: false).joined(separator: "%3A")
  }
}
