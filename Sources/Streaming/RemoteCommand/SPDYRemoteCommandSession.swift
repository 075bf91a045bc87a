import Logging
import StreamingWire

/// Exec or attach over SPDY (kubelet's remotecommand/httpstream.go): the
/// client opens one stream per `streamType`; once all the request needs are
/// there the runtime runs; then the status goes on the error stream, every
/// stream gets FIN and the connection ends.
struct SPDYRemoteCommandSession: Sendable {
  let target: RemoteCommandTarget
  let version: RemoteCommandVersion
  let runtime: any StreamingRuntime
  let creationTimeout: Duration
  let logger: Logger

  private static let creationTimer = "stream-creation"

  /// The stream types the client must open before the command starts.
  static func expectedStreamTypes(_ streams: RequestedStreams, version: RemoteCommandVersion) -> Set<String> {
    var types: Set<String> = [StreamProtocols.StreamType.error]
    if streams.stdin { types.insert(StreamProtocols.StreamType.stdin) }
    if streams.stdout { types.insert(StreamProtocols.StreamType.stdout) }
    if streams.stderr && !streams.tty { types.insert(StreamProtocols.StreamType.stderr) }
    if streams.tty && version.carriesResize { types.insert(StreamProtocols.StreamType.resize) }
    return types
  }

  func run(
    events: AsyncStream<SPDYSessionEvent>, eventSink: AsyncStream<SPDYSessionEvent>.Continuation,
    connection: SPDYConnectionRef
  ) async {
    defer { connection.shutdown() }
    let expected = Self.expectedStreamTypes(target.streams, version: version)
    connection.schedule(Self.creationTimer, after: creationTimeout, on: eventSink)
    var streams: [String: SPDYServerStream] = [:]
    for await event in events {
      switch event {
      case .opened(let stream):
        guard let type = stream.streamType, expected.contains(type), streams[type] == nil else {
          logger.debug("ignoring unexpected stream", metadata: ["streamType": "\(stream.streamType ?? "")"])
          continue
        }
        streams[type] = stream
      case .timer:
        logger.info("timed out waiting for client to create streams", metadata: ["have": "\(streams.keys.sorted())"])
        return
      }
      if streams.count == expected.count { break }
    }
    guard streams.count == expected.count else { return }  // connection closed first
    await runCommand(streams)
  }

  private func runCommand(_ streams: [String: SPDYServerStream]) async {
    let status = await target.run(
      on: runtime,
      stdin: target.streams.stdin ? streams[StreamProtocols.StreamType.stdin]?.inbound : nil,
      stdout: streams[StreamProtocols.StreamType.stdout]?.writer,
      stderr: streams[StreamProtocols.StreamType.stderr]?.writer,
      resize: streams[StreamProtocols.StreamType.resize]?.inbound, version: version, logger: logger)
    if let status {
      try? await streams[StreamProtocols.StreamType.error]?.write(status)
    }
    for stream in streams.values { await stream.close() }
  }
}
