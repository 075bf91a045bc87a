import CRIAPI
import GRPCCore

/// runtime.v1.ImageService. One RPC per file, as extensions of this type; RPCs
/// not served yet live in ImageService+Unimplemented.swift.
public struct CRIImageService: Runtime_V1_ImageService.SimpleServiceProtocol {
  let daemon: DaemonContext

  public init(daemon: DaemonContext) {
    self.daemon = daemon
  }
}
