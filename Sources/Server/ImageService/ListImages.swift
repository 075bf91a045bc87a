import CRIAPI
import GRPCCore

extension CRIImageService {
  public func listImages(
    request: Runtime_V1_ListImagesRequest,
    context: GRPCCore.ServerContext
  ) async throws -> Runtime_V1_ListImagesResponse {
    var response = Runtime_V1_ListImagesResponse()
    response.images = try daemon.images.images(matching: request.filter)
    return response
  }

  /// ListImages in batches, for clients that page through large stores.
  public func streamImages(
    request: Runtime_V1_StreamImagesRequest,
    response: GRPCCore.RPCWriter<Runtime_V1_StreamImagesResponse>,
    context: GRPCCore.ServerContext
  ) async throws {
    let images = try daemon.images.images(matching: request.filter)
    for start in stride(from: 0, to: images.count, by: 100) {
      var batch = Runtime_V1_StreamImagesResponse()
      batch.images = Array(images[start..<min(start + 100, images.count)])
      try await response.write(batch)
    }
  }
}

extension ImageContext {
  /// Every image, or the one the filter names.
  func images(matching filter: Runtime_V1_ImageFilter) throws(CRIError) -> [Runtime_V1_Image] {
    let wanted = filter.image.image
    if !wanted.isEmpty {
      return try lookUp(wanted).map { [Runtime_V1_Image($0)] } ?? []
    }
    do {
      return try records.list().map(Runtime_V1_Image.init)
    } catch {
      throw CRIError.image(error)
    }
  }
}
