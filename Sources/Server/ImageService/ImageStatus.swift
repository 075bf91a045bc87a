import CRIAPI
import GRPCCore
import OCI
import Registry
import Storage
import Support

extension CRIImageService {
  public func imageStatus(
    request: Runtime_V1_ImageStatusRequest,
    context: GRPCCore.ServerContext
  ) async throws -> Runtime_V1_ImageStatusResponse {
    let images = daemon.images
    var response = Runtime_V1_ImageStatusResponse()
    // The CRI answers an unknown image with an empty response, not NotFound.
    guard let record = try images.lookUp(request.image.image) else { return response }
    response.image = Runtime_V1_Image(record, pinned: images.pinned.pins(record))
    if request.verbose {
      response.info = ["info": record.verboseInfo().rendered()]
    }
    return response
  }
}

extension ImageContext {
  /// An image by ID, ID prefix, tag, digest or short name (as registries.conf resolves it).
  func lookUp(_ text: String) throws(CRIError) -> ImageRecord? {
    guard !text.isEmpty else {
      throw .invalidArgument("no image given (image.image is empty)")
    }
    do {
      if let record = try records.find(text) { return record }
      // "busybox" means whatever the search registries make of it.
      for candidate in (try? sources.registries.candidates(for: text)) ?? [] {
        if let record = try records.find(candidate.description) { return record }
      }
      return nil
    } catch {
      throw CRIError.image(error)
    }
  }
}

extension Runtime_V1_Image {
  init(_ record: ImageRecord, pinned: Bool) {
    self.init()
    self.pinned = pinned
    id = record.id.hex
    repoTags = record.repoTags
    repoDigests = record.repoDigests
    size = record.size
    spec.image = record.id.hex
    let user = (try? OCIJSON.decode(ImageConfiguration.self, from: record.config, kind: "image config"))?.config?.user ?? ""
    // kubelet's runAsNonRoot check reads uid, or username when the image
    // names a user it would have to resolve inside the image.
    let name = user.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
    if name.isEmpty {
      uid.value = 0
    } else if let number = Int64(name) {
      uid.value = number
    } else {
      username = name
    }
  }
}

extension ImageRecord {
  /// `crictl inspecti` detail: the config, manifest digest and layers.
  func verboseInfo() -> JSONValue {
    let configJSON = String(decoding: config, as: UTF8.self)
    return .object([
      ("id", .string(id.description)),
      ("manifestDigest", .string(manifestDigest.description)),
      ("repoTags", .array(repoTags.map { .string($0) })),
      ("repoDigests", .array(repoDigests.map { .string($0) })),
      ("layers", .array(layers.map { .string($0.description) })),
      ("imageSpec", .raw(configJSON)),
    ])
  }
}
