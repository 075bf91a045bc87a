import Logging

/// The exec or attach a remotecommand session runs.
enum RemoteCommandTarget: Sendable {
  case exec(ExecRequest)
  case attach(AttachRequest)

  var streams: RequestedStreams {
    switch self {
    case .exec(let request): request.streams
    case .attach(let request): request.streams
    }
  }

  /// Runs the target on `runtime`. Cancellation (client gone) surfaces as
  /// whatever the runtime throws; the caller has no client to tell then.
  func run(on runtime: any StreamingRuntime, io: StreamingIO) async -> RemoteCommandOutcome {
    do {
      switch self {
      case .exec(let request): return .exited(try await runtime.exec(request, io: io))
      case .attach(let request):
        try await runtime.attach(request, io: io)
        return .exited(0)
      }
    } catch {
      return .failed("\(error)")
    }
  }

  /// Runs the target over a session's streams, with terminal sizes decoded
  /// from `resize` when the client opened it, and returns what the error
  /// stream ends with (nil: nothing to send), for SPDY and WebSocket alike.
  func run(
    on runtime: any StreamingRuntime, stdin: ByteStream?, stdout: ByteWriter?, stderr: ByteWriter?,
    resize: ByteStream?, version: RemoteCommandVersion, logger: Logger
  ) async -> [UInt8]? {
    let (resizeEvents, resizeSink) = AsyncStream<TerminalSize>.makeStream()
    let resizeReader = resize.map { resize in Task { await forwardResizeEvents(from: resize, to: resizeSink) } }
    if resizeReader == nil { resizeSink.finish() }
    let io = StreamingIO(stdin: stdin, stdout: stdout, stderr: stderr, tty: streams.tty, resize: resizeEvents)
    let outcome = await run(on: runtime, io: io)
    resizeReader?.cancel()
    resizeSink.finish()
    logger.debug("remote command finished", metadata: ["outcome": "\(outcome)"])
    return outcome.errorStreamBytes(version)
  }
}
