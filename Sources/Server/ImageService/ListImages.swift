import CRIAPI
import GRPCCore
import Storage
import SwiftProtobuf

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
    try await response.writeInBatches(try daemon.images.images(matching: request.filter)) { batch in
      Runtime_V1_StreamImagesResponse.with { $0.images = batch }
    }
  }
}

extension ImageContext {
  /// Every image, or the one the filter names.
  func images(matching filter: Runtime_V1_ImageFilter) throws(CRIError) -> [Runtime_V1_Image] {
    let wanted = filter.image.image
    if !wanted.isEmpty {
      return try lookUp(wanted).map { [Runtime_V1_Image($0, pinned: pinned.pins($0))] } ?? []
    }
    do {
      return try records.list().map { Runtime_V1_Image($0, pinned: pinned.pins($0)) }
    } catch {
      throw CRIError.image(error)
    }
  }
}
