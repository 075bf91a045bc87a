#if canImport(Glibc)
import Glibc
#endif
import Config
import Logging
import NIOCore
import NIOPosix
import Streaming
import Support

/// The Prometheus endpoint of `[crio.metrics]`: `GET /metrics` over TCP on
/// `metrics_host:metrics_port` and, when `metrics_socket` is set, on that
/// Unix socket as well (CRI-O serves both), HTTPS on both when
/// `metrics_cert` and `metrics_key` are set (re-read when they change).
/// Its own listeners on the shared event loops: a scrape never waits for,
/// or holds up, a CRI call.
final class MetricsServer: Sendable {
  private let channels: [any Channel]
  /// Where it listens, for the log and the tests (`host:port`, the socket).
  let addresses: [String]
  /// `metrics_socket`, removed when the server stops.
  private let socketPath: String?

  private init(channels: [any Channel], addresses: [String], socketPath: String?) {
    self.channels = channels
    self.addresses = addresses
    self.socketPath = socketPath
  }

  static func start(config: MetricsConfig, responder: @escaping HTTP1Responder, logger: Logger) async throws -> MetricsServer {
    let tls = try tlsSettings(config, logger: logger)
    let group = MultiThreadedEventLoopGroup.singleton
    func bootstrap() -> ServerBootstrap {
      ServerBootstrap(group: group)
        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        .childChannelInitializer { channel in
          // TLS (when on) first in the pipeline, the answerer behind it.
          let secured = tls?.channelInitializer(channel) ?? channel.eventLoop.makeSucceededVoidFuture()
          return secured.flatMapThrowing {
            try channel.pipeline.syncOperations.addHandler(HTTP1Answerer(responder: responder))
          }
        }
    }
    var channels: [any Channel] = []
    var addresses: [String] = []
    do {
      let tcp: any Channel
      do {
        tcp = try await bootstrap().bind(host: config.metricsHost, port: config.metricsPort).get()
      } catch {
        throw DaemonError.metrics("create metrics endpoint on \(config.metricsHost):\(config.metricsPort): \(error)")
      }
      channels.append(tcp)
      addresses.append("\(config.metricsHost):\(tcp.localAddress?.port ?? config.metricsPort)")
      if !config.metricsSocket.isEmpty {
        try SocketPath.prepare(config.metricsSocket)
        let previousUmask = umask(0o117)
        defer { umask(previousUmask) }
        do {
          channels.append(try await bootstrap().bind(unixDomainSocketPath: config.metricsSocket).get())
        } catch {
          throw DaemonError.metrics("creating metrics endpoint socket \(config.metricsSocket): \(error)")
        }
        addresses.append(config.metricsSocket)
      }
    } catch {
      for channel in channels { try? await channel.close() }
      throw error
    }
    logger.info(
      "Serving metrics", metadata: ["on": "\(addresses.joined(separator: ", "))", "via": "\(tls == nil ? "HTTP" : "HTTPS")"])
    return MetricsServer(
      channels: channels, addresses: addresses, socketPath: config.metricsSocket.isEmpty ? nil : config.metricsSocket)
  }

  func stop() async {
    for channel in channels { try? await channel.close() }
    if let socketPath { unlink(socketPath) }
  }

  /// HTTPS when both files are named (CRI-O's rule); when neither exists, a
  /// self-signed pair is made there first, as CRI-O does. One without the
  /// other, or a pair that cannot be read, stops start-up.
  private static func tlsSettings(_ config: MetricsConfig, logger: Logger) throws -> StreamingTLS? {
    guard !config.metricsCert.isEmpty, !config.metricsKey.isEmpty else { return nil }
    let certificate = config.metricsCert
    let key = config.metricsKey
    do {
      if Files.kind(of: certificate) == .missing, Files.kind(of: key) == .missing {
        try SelfSignedCertificate.write(certificate: certificate, key: key)
        logger.info("Made a self-signed certificate for the metrics endpoint", metadata: ["cert": "\(certificate)", "key": "\(key)"])
      }
      return try StreamingTLS(certificatePath: certificate, keyPath: key, clientCAPath: nil)
    } catch {
      throw DaemonError.metrics("metrics_cert \(certificate) / metrics_key \(key) cannot be used: \(error)")
    }
  }
}

/// Answers one HTTP/1 request per connection and closes it.
private final class HTTP1Answerer: ChannelInboundHandler {
  typealias InboundIn = ByteBuffer
  typealias OutboundOut = ByteBuffer

  private var received: ByteBuffer?
  private var answered = false
  private let responder: HTTP1Responder

  init(responder: @escaping HTTP1Responder) {
    self.responder = responder
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    guard !answered else { return }
    var bytes = unwrapInboundIn(data)
    if received == nil { received = bytes } else { received!.writeBuffer(&bytes) }
    answered = HTTP1Answering.answer(received!.readableBytesView, on: context.eventLoop, responder: responder) { response in
      self.send(response, context: context)
    }
    if answered { received = nil }
  }

  private func send(_ response: HTTP1Response, context: ChannelHandlerContext) {
    answered = true
    let bytes = context.channel.allocator.buffer(bytes: response.serialized())
    context.writeAndFlush(wrapOutboundOut(bytes)).assumeIsolated().whenComplete { _ in
      context.close(promise: nil)
    }
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    context.close(promise: nil)
  }
}
