import Support
import Logging
import StreamingWire

/// Port-forward over SPDY (kubelet's portforward/httpstream.go): for each
/// forwarded connection the client opens an error stream and a data stream
/// sharing a `requestID` and naming the `port`; once both are there the
/// runtime connects the data stream to the port. The connection lives until
/// the client closes it.
struct SPDYPortForwardSession: Sendable {
  let podSandboxID: String
  let runtime: any StreamingRuntime
  let creationTimeout: Duration
  let logger: Logger

  /// kubelet refuses streams without a valid port and stream type before
  /// replying to them.
  static func acceptsStream(_ headers: SPDYHeaders) -> Bool {
    guard let port = headers.first(StreamProtocols.portHeader).flatMap({ UInt16($0) }), port > 0 else { return false }
    let type = headers.first(StreamProtocols.streamTypeHeader)
    return type == StreamProtocols.StreamType.error || type == StreamProtocols.StreamType.data
  }

  private struct Pair {
    var data: SPDYServerStream?
    var error: SPDYServerStream?
  }

  func run(
    events: AsyncStream<SPDYSessionEvent>, eventSink: AsyncStream<SPDYSessionEvent>.Continuation,
    connection: SPDYConnectionRef
  ) async {
    await withDiscardingTaskGroup { group in
      var pairs: [String: Pair] = [:]
      for await event in events {
        switch event {
        case .opened(let stream):
          let requestID = Self.requestID(of: stream)
          var pair = pairs[requestID] ?? Pair()
          if pairs[requestID] == nil {
            connection.schedule(requestID, after: creationTimeout, on: eventSink)
          }
          let isData = stream.streamType == StreamProtocols.StreamType.data
          if (isData ? pair.data : pair.error) != nil {
            let message = "error processing stream for request \(requestID): \(isData ? "data" : "error") stream already assigned"
            logger.info("\(message)")
            try? await pair.error?.write(Array(message.utf8))
            connection.reset(stream: stream.id)
            continue
          }
          if isData { pair.data = stream } else { pair.error = stream }
          if let data = pair.data, let error = pair.error {
            pairs[requestID] = nil
            group.addTask { await forward(data: data, error: error) }
          } else {
            pairs[requestID] = pair
          }
        case .timer(let requestID):
          guard let pair = pairs.removeValue(forKey: requestID) else { continue }
          let message = "timed out waiting for streams of request \(requestID)"
          logger.info("\(message)")
          try? await pair.error?.write(Array(message.utf8))
          for stream in [pair.data, pair.error].compactMap({ $0 }) { connection.reset(stream: stream.id) }
        }
      }
      // The connection is gone: stop the forwards still running.
      group.cancelAll()
    }
  }

  /// The `requestID` header, or for old clients without it kubelet's guess
  /// from consecutive stream ids (error n, data n+2).
  static func requestID(of stream: SPDYServerStream) -> String {
    if let id = stream.headers.first(StreamProtocols.requestIDHeader), !id.isEmpty { return id }
    let isData = stream.streamType == StreamProtocols.StreamType.data
    return String(isData ? Int(stream.id) - 2 : Int(stream.id))
  }

  private func forward(data: SPDYServerStream, error errorStream: SPDYServerStream) async {
    let port = data.headers.first(StreamProtocols.portHeader).flatMap { UInt16($0) } ?? 0
    do {
      try await runtime.portForward(
        podSandboxID: podSandboxID, port: port, stream: PortForwardStream(inbound: data.inbound, outbound: data.writer))
    } catch {
      let message = "error forwarding port \(port) to pod \(podSandboxID), uid : \(error)"
      logger.info("port forward failed", metadata: ["port": "\(port)", "error": "\(error)"])
      // kubelet's portForwardErrResponse, one JSON line.
      let response = #"{"closeConnection":true,"message":"# + Quoting.doubleQuoted(message) + "}\n"
      try? await errorStream.write(Array(response.utf8))
    }
    await data.close()
    await errorStream.close()
  }
}
