import NIOCore
import NIOHTTP1
import StreamingWire

private struct UpgradedSPDY: Sendable {
  let session: SPDYClientSessionRef
  let protocolName: String
}

private func isStatusJSONProtocol(_ name: String) -> Bool {
  name.hasPrefix("v4.") || name.hasPrefix("v5.")
}

/// Drains `stream` into one array.
private func collect(_ stream: AsyncStream<[UInt8]>?) async -> [UInt8] {
  guard let stream else { return [] }
  var bytes: [UInt8] = []
  for await chunk in stream { bytes += chunk }
  return bytes
}

/// remotecommand over SPDY, in client-go's order: the error stream first,
/// then stdin, stdout, stderr and resize as requested; stdin's end is a FIN.
enum SPDYRemoteCommandClient {
  static func run(
    url: StreamingURL, options: RemoteCommandOptions, protocols: [String], group: any EventLoopGroup
  ) async throws -> ExecResult {
    let upgraded = try await ClientUpgrade.spdy(url: url, protocols: protocols, group: group) { channel, response in
      UpgradedSPDY(
        session: try SPDYClientSessionRef.install(on: channel),
        protocolName: response.headers.first(name: "X-Stream-Protocol-Version") ?? "")
    }
    let session = upgraded.session
    do {
      let result = try await exchange(session: session, options: options, protocolName: upgraded.protocolName)
      await session.close()
      return result
    } catch {
      await session.close()
      throw error
    }
  }

  private static func exchange(
    session: SPDYClientSessionRef, options: RemoteCommandOptions, protocolName: String
  ) async throws -> ExecResult {
    func open(_ type: String) async throws -> SPDYClientStream {
      try await session.openStream([StreamProtocols.streamTypeHeader: type])
    }
    let errorStream = try await open(StreamProtocols.StreamType.error)
    let stdinStream = options.stdin == nil ? nil : try await open(StreamProtocols.StreamType.stdin)
    let stdoutStream = options.stdout ? try await open(StreamProtocols.StreamType.stdout) : nil
    let stderrStream = options.stderr ? try await open(StreamProtocols.StreamType.stderr) : nil
    let carriesResize = protocolName.hasPrefix("v3.") || isStatusJSONProtocol(protocolName)
    let resizeStream = options.tty && carriesResize ? try await open(StreamProtocols.StreamType.resize) : nil

    let stdinPump = Task {
      guard let stdinStream, let stdin = options.stdin else { return }
      for await chunk in stdin { try await stdinStream.send(chunk) }
      try await stdinStream.finish()
    }
    let resizePump = Task {
      guard let resizeStream, let resize = options.resize else { return }
      for await size in resize { try await resizeStream.send(size.json) }
    }
    async let stdout = collect(stdoutStream?.received)
    async let stderr = collect(stderrStream?.received)
    let errorBytes = await errorStream.readAll()
    let result = (stdout: await stdout, stderr: await stderr)
    stdinPump.cancel()
    resizePump.cancel()
    let (exitCode, failure) = ErrorStreamDecoder.decode(errorBytes, statusJSON: isStatusJSONProtocol(protocolName))
    return ExecResult(
      stdout: result.stdout, stderr: result.stderr, errorStream: errorBytes, protocolName: protocolName,
      exitCode: exitCode, failure: failure)
  }
}

/// remotecommand over WebSocket: channel 0 stdin, 1 stdout, 2 stderr,
/// 3 error, 4 resize; v5 says "stdin closed" with the 255 close signal.
enum WebSocketRemoteCommandClient {
  static func run(
    url: StreamingURL, options: RemoteCommandOptions, protocols: [String], group: any EventLoopGroup
  ) async throws -> ExecResult {
    let session = try await ClientUpgrade.webSocket(url: url, protocols: protocols, group: group) { channel, response in
      try WebSocketClientSessionRef.install(
        on: channel, subprotocol: response.headers.first(name: "Sec-WebSocket-Protocol") ?? "", channelCount: 5)
    }
    let protocolName = session.subprotocol
    let stdinPump = Task {
      guard let stdin = options.stdin else { return }
      for await chunk in stdin { try await session.send(channel: StreamProtocols.Channel.stdin, chunk) }
      if protocolName == StreamProtocols.RemoteCommand.v5 {
        try await session.send(ChannelMessage.closeSignal(for: StreamProtocols.Channel.stdin))
      }
    }
    let resizePump = Task {
      guard options.tty, let resize = options.resize else { return }
      for await size in resize { try await session.send(channel: StreamProtocols.Channel.resize, size.json) }
    }
    // The server closes the connection after the status; every channel ends then.
    async let stdout = collect(session.received[StreamProtocols.Channel.stdout])
    async let stderr = collect(session.received[StreamProtocols.Channel.stderr])
    async let errorBytes = collect(session.received[StreamProtocols.Channel.error])
    let result = (stdout: await stdout, stderr: await stderr, error: await errorBytes)
    stdinPump.cancel()
    resizePump.cancel()
    await session.close()
    let (exitCode, failure) = ErrorStreamDecoder.decode(result.error, statusJSON: isStatusJSONProtocol(protocolName))
    return ExecResult(
      stdout: result.stdout, stderr: result.stderr, errorStream: result.error, protocolName: protocolName,
      exitCode: exitCode, failure: failure)
  }
}
