#if canImport(Glibc)
import Glibc
#endif
import CRIAPI
import GRPCCore

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
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    var usage = Runtime_V1_FilesystemUsage()
    usage.timestamp = Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    usage.fsID.mountpoint = daemon.config.root
    usage.usedBytes.value = bytes
    usage.inodesUsed.value = inodes
    var response = Runtime_V1_ImageFsInfoResponse()
    response.imageFilesystems = [usage]
    // Container writable layers live under the same root (until containers
    // exist they add nothing); kubelet reads both lists.
    response.containerFilesystems = [usage]
    return response
  }
}
