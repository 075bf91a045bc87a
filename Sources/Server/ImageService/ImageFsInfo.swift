import CRIAPI
import Config
import GRPCCore
import Storage

extension CRIImageService {
  public func imageFsInfo(
    request: Runtime_V1_ImageFsInfoRequest,
    context: GRPCCore.ServerContext
  ) async throws -> Runtime_V1_ImageFsInfoResponse {
    let images = daemon.images
    // Unpacked layers plus the manifests and configs kept beside them.
    let layers = images.layers.usage()
    let blobs = images.blobs.usage()
    let (bytes, inodes) = (layers.bytes + blobs.bytes, layers.inodes + blobs.inodes)
    let now = DaemonContext.now()
    var response = Runtime_V1_ImageFsInfoResponse()
    response.imageFilesystems = [Self.usage(mountpoint: daemon.config.root, bytes: bytes, inodes: inodes, at: now)]
    // The containers' writable (upper) layers; kubelet reads both lists.
    let writable = DiskUsage.of(daemon.containers.layersDirectory)
    response.containerFilesystems = [
      Self.usage(mountpoint: daemon.containers.layersDirectory, bytes: writable.bytes, inodes: writable.inodes, at: now)
    ]
    return response
  }

  private static func usage(mountpoint: String, bytes: UInt64, inodes: UInt64, at timestamp: Int64) -> Runtime_V1_FilesystemUsage {
    var usage = Runtime_V1_FilesystemUsage()
    usage.timestamp = timestamp
    usage.fsID.mountpoint = mountpoint
    usage.usedBytes.value = bytes
    usage.inodesUsed.value = inodes
    return usage
  }
}
