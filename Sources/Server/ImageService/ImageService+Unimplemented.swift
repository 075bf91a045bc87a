import CRIAPI
import GRPCCore

/// The ImageService RPCs this daemon does not serve yet: each answers UNIMPLEMENTED
/// naming itself, so kubelet and crictl report it clearly instead of hanging.
/// Each moves to a file of its own when its capability lands.
extension CRIImageService {
  public func listImages(
    request: Runtime_V1_ListImagesRequest,
    context: GRPCCore.ServerContext
  ) async throws -> Runtime_V1_ListImagesResponse {
    throw CRIError.unimplemented(rpc: "runtime.v1.ImageService/ListImages")
  }

  public func streamImages(
    request: Runtime_V1_StreamImagesRequest,
    response: GRPCCore.RPCWriter<Runtime_V1_StreamImagesResponse>,
    context: GRPCCore.ServerContext
  ) async throws {
    throw CRIError.unimplemented(rpc: "runtime.v1.ImageService/StreamImages")
  }

  public func imageStatus(
    request: Runtime_V1_ImageStatusRequest,
    context: GRPCCore.ServerContext
  ) async throws -> Runtime_V1_ImageStatusResponse {
    throw CRIError.unimplemented(rpc: "runtime.v1.ImageService/ImageStatus")
  }

  public func pullImage(
    request: Runtime_V1_PullImageRequest,
    context: GRPCCore.ServerContext
  ) async throws -> Runtime_V1_PullImageResponse {
    throw CRIError.unimplemented(rpc: "runtime.v1.ImageService/PullImage")
  }

  public func removeImage(
    request: Runtime_V1_RemoveImageRequest,
    context: GRPCCore.ServerContext
  ) async throws -> Runtime_V1_RemoveImageResponse {
    throw CRIError.unimplemented(rpc: "runtime.v1.ImageService/RemoveImage")
  }

  public func imageFsInfo(
    request: Runtime_V1_ImageFsInfoRequest,
    context: GRPCCore.ServerContext
  ) async throws -> Runtime_V1_ImageFsInfoResponse {
    throw CRIError.unimplemented(rpc: "runtime.v1.ImageService/ImageFsInfo")
  }
}
