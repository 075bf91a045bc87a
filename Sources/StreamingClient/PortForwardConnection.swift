import NIOCore
import NIOHTTP1
import StreamingWire

/// One forwarded connection to a pod port: bytes the pod sends arrive in
/// `received`; `send` writes to it. Over SPDY a data and an error stream
/// (kubectl's pair); over WebSocket channel 0 and 1, each opened by the
/// port number.
public struct PortForwardConnection: Sendable {
  /// Bytes from the pod, until it or the server closes.
  public let received: AsyncStream<[UInt8]>
  private let sendBytes: @Sendable ([UInt8]) async throws -> Void
  private let finishSending: @Sendable () async throws -> Void
  private let errorText: Task<String, Never>
  private let closeConnection: @Sendable () async -> Void

  public func send(_ bytes: [UInt8]) async throws {
    try await sendBytes(bytes)
  }

  /// Tells the pod side no more bytes come (SPDY FIN on the data stream;
  /// kubelet's WebSocket port-forward has no way to say it, so closes).
  public func closeWrite() async throws {
    try await finishSending()
  }

  /// What the server wrote on the error stream, once it ends.
  public func errorMessage() async -> String {
    await errorText.value
  }

  public func close() async {
    await closeConnection()
  }

  static func spdy(url: StreamingURL, port: UInt16, group: any EventLoopGroup) async throws -> PortForwardConnection {
    let session = try await ClientUpgrade.spdy(url: url, protocols: [StreamProtocols.PortForward.v1], group: group) {
      channel, _ in try SPDYClientSessionRef.install(on: channel)
    }
    func headers(_ type: String) -> SPDYHeaders {
      [StreamProtocols.streamTypeHeader: type, StreamProtocols.portHeader: String(port), StreamProtocols.requestIDHeader: "0"]
    }
    do {
      // kubectl opens the error stream first, then the data stream.
      let errorStream = try await session.openStream(headers(StreamProtocols.StreamType.error))
      let dataStream = try await session.openStream(headers(StreamProtocols.StreamType.data))
      return PortForwardConnection(
        received: dataStream.received,
        sendBytes: { try await dataStream.send($0) },
        finishSending: { try await dataStream.finish() },
        errorText: Task { String(decoding: await errorStream.readAll(), as: UTF8.self) },
        closeConnection: { await session.close() })
    } catch {
      await session.close()
      throw error
    }
  }

  static func webSocket(url: StreamingURL, port: UInt16, group: any EventLoopGroup) async throws -> PortForwardConnection {
    let session = try await ClientUpgrade.webSocket(url: url, protocols: [StreamProtocols.RemoteCommand.v4], group: group) {
      channel, response in
      try WebSocketClientSessionRef.install(
        on: channel, subprotocol: response.headers.first(name: "Sec-WebSocket-Protocol") ?? "", channelCount: 2)
    }
    let data = dropPortPrefix(session.received[0]!, port: port)
    let errors = dropPortPrefix(session.received[1]!, port: port)
    return PortForwardConnection(
      received: data,
      sendBytes: { try await session.send(channel: 0, $0) },
      finishSending: { await session.close() },
      errorText: Task {
        var bytes: [UInt8] = []
        for await chunk in errors { bytes += chunk }
        return String(decoding: bytes, as: UTF8.self)
      },
      closeConnection: { await session.close() })
  }

  /// kubelet starts each WebSocket port-forward channel with the port as two
  /// little-endian bytes; the caller wants only what follows.
  private static func dropPortPrefix(_ source: AsyncStream<[UInt8]>, port: UInt16) -> AsyncStream<[UInt8]> {
    AsyncStream { continuation in
      let task = Task {
        var prefixLeft = 2
        for await chunk in source {
          var chunk = chunk[...]
          while prefixLeft > 0, !chunk.isEmpty {
            chunk = chunk.dropFirst()
            prefixLeft -= 1
          }
          if !chunk.isEmpty { continuation.yield(Array(chunk)) }
        }
        continuation.finish()
      }
      continuation.onTermination = { _ in task.cancel() }
    }
  }
}
