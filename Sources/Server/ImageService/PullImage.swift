import CRIAPI
import GRPCCore
import Logging
import OCI
import Registry
import Storage

extension CRIImageService {
  public func pullImage(
    request: Runtime_V1_PullImageRequest,
    context: GRPCCore.ServerContext
  ) async throws -> Runtime_V1_PullImageResponse {
    let name = request.image.image
    guard !name.isEmpty else {
      throw CRIError.invalidArgument("PullImage needs an image name (image.image is empty)")
    }
    let images = daemon.images
    let credentials = request.hasAuth ? Credentials(request.auth) : nil
    do {
      let namespace = request.hasSandboxConfig ? request.sandboxConfig.metadata.namespace : nil
      let record = try await images.puller.pull(name, credentials: credentials, namespace: namespace)
      var response = Runtime_V1_PullImageResponse()
      response.imageRef = record.id.hex
      return response
    } catch {
      let mapped = CRIError.image(error)
      daemon.logger.warning("Pull failed", metadata: ["image": "\(name)", "error": "\(mapped.rpcErrorMessage)"])
      throw mapped
    }
  }
}

extension Credentials {
  /// The CRI's AuthConfig as registry credentials; empty fields stay empty.
  init(_ auth: Runtime_V1_AuthConfig) {
    self.init(
      username: auth.username, password: auth.password, auth: auth.auth,
      identityToken: auth.identityToken, registryToken: auth.registryToken)
  }
}
