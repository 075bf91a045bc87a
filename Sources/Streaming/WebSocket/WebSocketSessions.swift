import Logging
import StreamingWire

/// Exec or attach over WebSocket (kubelet's remotecommand/websocket.go):
/// fixed channels, an empty message on the lowest writable channel to say
/// the session is up, the status on the error channel at the end, then a
/// close handshake.
struct WebSocketRemoteCommandSession: Sendable {
  let target: RemoteCommandTarget
  let version: RemoteCommandVersion
  let runtime: any StreamingRuntime
  let logger: Logger

  /// The channels the client may write to, with their readers.
  static func readableChannels(_ streams: RequestedStreams) -> [UInt8] {
    var channels: [UInt8] = []
    if streams.stdin { channels.append(StreamProtocols.Channel.stdin) }
    if streams.tty { channels.append(StreamProtocols.Channel.resize) }
    return channels
  }

  func run(connection: WebSocketConnectionRef, readers: [UInt8: AsyncStream<[UInt8]>]) async {
    defer { connection.close() }
    let requested = target.streams
    let announceChannel =
      requested.stdout
      ? StreamProtocols.Channel.stdout : requested.stderr ? StreamProtocols.Channel.stderr : StreamProtocols.Channel.error
    do {
      try await connection.send(channel: announceChannel, [])
    } catch {
      return
    }
    let status = await target.run(
      on: runtime,
      stdin: readers[StreamProtocols.Channel.stdin].map { ByteStream($0) },
      stdout: requested.stdout ? connection.writer(channel: StreamProtocols.Channel.stdout) : nil,
      stderr: requested.stderr && !requested.tty ? connection.writer(channel: StreamProtocols.Channel.stderr) : nil,
      resize: requested.tty ? readers[StreamProtocols.Channel.resize].map { ByteStream($0) } : nil,
      version: version, logger: logger)
    if let status {
      try? await connection.send(channel: StreamProtocols.Channel.error, status)
    }
  }
}

/// Port-forward over WebSocket (kubelet's portforward/websocket.go): two
/// channels per port, data (2n) and error (2n+1), each opened by the port
/// number as two little-endian bytes; the connection ends when every
/// forward has.
struct WebSocketPortForwardSession: Sendable {
  let podSandboxID: String
  let ports: [UInt16]
  let runtime: any StreamingRuntime
  let logger: Logger

  static func dataChannel(forPortAt index: Int) -> UInt8 { UInt8(index * 2) }
  static func errorChannel(forPortAt index: Int) -> UInt8 { UInt8(index * 2 + 1) }

  func run(connection: WebSocketConnectionRef, readers: [UInt8: AsyncStream<[UInt8]>]) async {
    defer { connection.close() }
    do {
      for (index, port) in ports.enumerated() {
        let portBytes = [UInt8(truncatingIfNeeded: port), UInt8(truncatingIfNeeded: port >> 8)]
        try await connection.send(channel: Self.dataChannel(forPortAt: index), portBytes)
        try await connection.send(channel: Self.errorChannel(forPortAt: index), portBytes)
      }
    } catch {
      return
    }
    await withDiscardingTaskGroup { group in
      for (index, port) in ports.enumerated() {
        guard let inbound = readers[Self.dataChannel(forPortAt: index)] else { continue }
        group.addTask {
          let stream = PortForwardStream(
            inbound: ByteStream(inbound), outbound: connection.writer(channel: Self.dataChannel(forPortAt: index)))
          do {
            try await runtime.portForward(podSandboxID: podSandboxID, port: port, stream: stream)
          } catch {
            let message = "error forwarding port \(port) to pod \(podSandboxID), uid : \(error)"
            logger.info("port forward failed", metadata: ["port": "\(port)", "error": "\(error)"])
            try? await connection.send(channel: Self.errorChannel(forPortAt: index), Array(message.utf8))
          }
        }
      }
    }
  }
}
