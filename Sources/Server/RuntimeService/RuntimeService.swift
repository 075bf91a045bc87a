import CRIAPI
import Config
import GRPCCore
import Logging
import Streaming

/// runtime.v1.RuntimeService. One RPC (or RPC family) per file, as
/// extensions of this type; RPCs not served yet live in
/// RuntimeService+Unimplemented.swift.
public struct CRIRuntimeService: Runtime_V1_RuntimeService.SimpleServiceProtocol {
  let daemon: DaemonContext
  /// Where Exec, Attach and PortForward send their clients.
  let streaming: StreamingServer

  public init(daemon: DaemonContext, streaming: StreamingServer) {
    self.daemon = daemon
    self.streaming = streaming
  }
}
