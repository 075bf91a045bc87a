/// The media types of image documents and layers this runtime handles.
public enum MediaType {
  public static let ociManifest = "application/vnd.oci.image.manifest.v1+json"
  public static let ociIndex = "application/vnd.oci.image.index.v1+json"
  public static let ociConfig = "application/vnd.oci.image.config.v1+json"
  public static let ociLayer = "application/vnd.oci.image.layer.v1.tar"
  public static let ociLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
  public static let ociLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd"
  public static let ociLayerNondistributable = "application/vnd.oci.image.layer.nondistributable.v1.tar"
  public static let ociLayerNondistributableGzip = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
  public static let ociLayerNondistributableZstd = "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"

  public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
  public static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
  public static let dockerConfig = "application/vnd.docker.container.image.v1+json"
  public static let dockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip"
  public static let dockerLayerForeignGzip = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
  public static let dockerSchema1 = "application/vnd.docker.distribution.manifest.v1+json"
  public static let dockerSchema1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws"

  /// What a registry is asked for, best first.
  public static let acceptedManifests = [ociIndex, dockerManifestList, ociManifest, dockerManifest]

  public static func isIndex(_ type: String) -> Bool { type == ociIndex || type == dockerManifestList }
  public static func isManifest(_ type: String) -> Bool { type == ociManifest || type == dockerManifest }
  public static func isSchema1(_ type: String) -> Bool { type == dockerSchema1 || type == dockerSchema1Signed }

  /// How a layer blob is compressed, or nil when the type is not a layer.
  public static func layerCompression(_ type: String) -> LayerCompression? {
    switch type {
    case ociLayer, ociLayerNondistributable, "application/vnd.docker.image.rootfs.diff.tar": LayerCompression.none
    case ociLayerGzip, ociLayerNondistributableGzip, dockerLayerGzip, dockerLayerForeignGzip: .gzip
    case ociLayerZstd, ociLayerNondistributableZstd: .zstd
    default: nil
    }
  }
}

public enum LayerCompression: String, Sendable, Equatable {
  case none, gzip, zstd
}
