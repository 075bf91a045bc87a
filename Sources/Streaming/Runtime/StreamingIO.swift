/// Bytes from the client, in the order sent. The sequence ends when the
/// client closes its side (stdin EOF, port-forward data stream FIN) or goes
/// away. Taking each chunk tells the transport it may let more in (SPDY
/// WINDOW_UPDATE), so a slow container slows the client down.
public struct ByteStream: AsyncSequence, Sendable {
  public typealias Element = [UInt8]
  public typealias Failure = Never

  private let chunks: AsyncStream<[UInt8]>
  private let consumed: @Sendable (Int) -> Void

  init(_ chunks: AsyncStream<[UInt8]>, consumed: @escaping @Sendable (Int) -> Void = { _ in }) {
    self.chunks = chunks
    self.consumed = consumed
  }

  /// A stream and the continuation that feeds it, for callers that produce
  /// the bytes themselves (tests, adapters).
  public static func makeStream() -> (stream: ByteStream, continuation: AsyncStream<[UInt8]>.Continuation) {
    let (chunks, continuation) = AsyncStream<[UInt8]>.makeStream()
    return (ByteStream(chunks), continuation)
  }

  public struct AsyncIterator: AsyncIteratorProtocol {
    var base: AsyncStream<[UInt8]>.AsyncIterator
    let consumed: @Sendable (Int) -> Void

    public mutating func next() async -> [UInt8]? {
      guard let chunk = await base.next() else { return nil }
      consumed(chunk.count)
      return chunk
    }

    public mutating func next(isolation actor: isolated (any Actor)?) async -> [UInt8]? {
      guard let chunk = await base.next(isolation: actor) else { return nil }
      consumed(chunk.count)
      return chunk
    }
  }

  public func makeAsyncIterator() -> AsyncIterator {
    AsyncIterator(base: chunks.makeAsyncIterator(), consumed: consumed)
  }
}

/// Why bytes could not be written to the client.
public enum StreamWriteError: Error, Sendable, Equatable {
  /// The client reset the stream or the connection ended.
  case closed
}

/// Sends bytes to the client on one stream. `write` returns once the bytes
/// are handed to the socket (and the peer's flow-control window allowed
/// them), which is the back-pressure a fast process needs.
public struct ByteWriter: Sendable {
  private let send: @Sendable ([UInt8]) async throws(StreamWriteError) -> Void
  private let finish: @Sendable () async -> Void

  public init(
    send: @escaping @Sendable ([UInt8]) async throws(StreamWriteError) -> Void,
    finish: @escaping @Sendable () async -> Void
  ) {
    self.send = send
    self.finish = finish
  }

  public func write(_ bytes: [UInt8]) async throws(StreamWriteError) {
    guard !bytes.isEmpty else { return }
    try await send(bytes)
  }

  /// Tells the client this stream has no more bytes (SPDY FIN). The server
  /// also closes every stream when the runtime call returns.
  public func close() async {
    await finish()
  }
}

/// A terminal size change the client asked for.
public struct TerminalSize: Sendable, Equatable {
  public var width: UInt16
  public var height: UInt16

  public init(width: UInt16, height: UInt16) {
    self.width = width
    self.height = height
  }
}

/// The client's side of an exec or attach session. A stream the request did
/// not ask for is nil.
public struct StreamingIO: Sendable {
  public let stdin: ByteStream?
  public let stdout: ByteWriter?
  public let stderr: ByteWriter?
  public let tty: Bool
  /// Terminal size changes, in order; ends with the session. Empty unless
  /// `tty` (and the protocol carries them: SPDY v3+ or WebSocket).
  public let resize: AsyncStream<TerminalSize>

  public init(stdin: ByteStream?, stdout: ByteWriter?, stderr: ByteWriter?, tty: Bool, resize: AsyncStream<TerminalSize>) {
    self.stdin = stdin
    self.stdout = stdout
    self.stderr = stderr
    self.tty = tty
    self.resize = resize
  }
}

/// One forwarded connection: bytes from the client to the pod port, and a
/// writer for bytes back.
public struct PortForwardStream: Sendable {
  public let inbound: ByteStream
  public let outbound: ByteWriter

  public init(inbound: ByteStream, outbound: ByteWriter) {
    self.inbound = inbound
    self.outbound = outbound
  }
}
