import FoundationEssentials
import OCI

/// One pulled image as the daemon lists it.
public struct ImageRecord: Sendable, Equatable {
  /// The config digest; the CRI image ID is its hex.
  public var id: Digest
  /// Fully qualified tags, "docker.io/library/busybox:latest".
  public var repoTags: [String]
  /// "docker.io/library/busybox@sha256:<manifest digest>".
  public var repoDigests: [String]
  /// Compressed layers plus config, in bytes, as CRI-O reports an image's size.
  public var size: UInt64
  public var manifestDigest: Digest
  /// The image config JSON exactly as pulled (its digest is `id`).
  public var config: [UInt8]
  /// Chain IDs of the layers, bottom first.
  public var layers: [Digest]
  /// When it was (last) pulled.
  public var pulledAt: Date

  public init(
    id: Digest, repoTags: [String], repoDigests: [String], size: UInt64, manifestDigest: Digest,
    config: [UInt8], layers: [Digest], pulledAt: Date = Date()
  ) {
    self.id = id
    self.repoTags = repoTags
    self.repoDigests = repoDigests
    self.size = size
    self.manifestDigest = manifestDigest
    self.config = config
    self.layers = layers
    self.pulledAt = pulledAt
  }
}

/// One layer as the image database knows it: its place in a chain and where
/// its compressed blob came from.
public struct LayerRecord: Sendable, Equatable {
  public var chainID: Digest
  public var diffID: Digest
  /// The chain beneath, nil for a bottom layer.
  public var parent: Digest?
  /// The compressed blob it was unpacked from, when known.
  public var blobDigest: Digest?
  public var compressedSize: UInt64
  /// Bytes unpacked (UnpackedLayer.size).
  public var size: UInt64

  public init(chainID: Digest, diffID: Digest, parent: Digest?, blobDigest: Digest?, compressedSize: UInt64, size: UInt64) {
    self.chainID = chainID
    self.diffID = diffID
    self.parent = parent
    self.blobDigest = blobDigest
    self.compressedSize = compressedSize
    self.size = size
  }
}

/// What removing one name did (see ImageStore.removeName).
public enum NameRemoval: Sendable, Equatable {
  /// The image keeps other names; this is it afterwards.
  case untagged(ImageRecord)
  /// That was what kept the image: it is gone, and this was it, so the
  /// caller can collect its blobs and the layers no other image uses.
  case deleted(ImageRecord)
}
