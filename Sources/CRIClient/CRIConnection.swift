import CRIAPI
import GRPCCore
import GRPCNIOTransportHTTP2Posix

/// A CRI client on the generated stubs, talking to a daemon over its Unix
/// socket the way crictl and kubelet do.
public struct CRIConnection: Sendable {
  public let runtime: Runtime_V1_RuntimeService.Client<HTTP2ClientTransport.Posix>
  public let image: Runtime_V1_ImageService.Client<HTTP2ClientTransport.Posix>

  /// Connects to `socket`, runs `body`, and closes the connection.
  public static func with<Result: Sendable>(
    socket: String,
    maxResponseBytes: Int = 80 << 20,
    _ body: (CRIConnection) async throws -> Result
  ) async throws -> Result {
    var config = HTTP2ClientTransport.Posix.Config.defaults
    // Latency-bound calls: send each request at once.
    config.connection.flushCoalescing = nil
    var serviceConfig = ServiceConfig()
    // An empty service name applies the limit to every method. The
    // transport (grpc-swift-nio-transport 2.x) bounds the messages it
    // receives by maxRequestMessageBytes (4 MiB when unset) and reads
    // maxResponseMessageBytes nowhere, so both carry the limit.
    serviceConfig.methodConfig = [
      MethodConfig(
        names: [MethodConfig.Name(service: "")],
        maxRequestMessageBytes: maxResponseBytes, maxResponseMessageBytes: maxResponseBytes)
    ]
    let transport = try HTTP2ClientTransport.Posix(
      target: .unixDomainSocket(path: socket),
      transportSecurity: .plaintext,
      config: config,
      serviceConfig: serviceConfig
    )
    return try await withGRPCClient(transport: transport) { client in
      try await body(CRIConnection(
        runtime: Runtime_V1_RuntimeService.Client(wrapping: client),
        image: Runtime_V1_ImageService.Client(wrapping: client)
      ))
    }
  }
}
