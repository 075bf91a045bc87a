import CRIAPI
import Config
import GRPCCore
import Logging

/// runtime.v1.RuntimeService. One RPC (or RPC family) per file, as
/// extensions of this type; RPCs not served yet live in
/// RuntimeService+Unimplemented.swift.
public struct CRIRuntimeService: Runtime_V1_RuntimeService.SimpleServiceProtocol {
  let daemon: DaemonContext

  public init(daemon: DaemonContext) {
    self.daemon = daemon
  }
}
