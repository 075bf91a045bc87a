import NIOCore
import StreamingWire

/// A way into a `SPDYServerConnection` from any task: each call hops to the
/// connection's event loop.
struct SPDYConnectionRef: Sendable {
  let connection: NIOLoopBound<SPDYServerConnection>
  let eventLoop: any EventLoop

  func send(stream id: UInt32, _ bytes: [UInt8], fin: Bool) async throws(StreamWriteError) {
    let promise = eventLoop.makePromise(of: Void.self)
    let buffer = ByteBuffer(bytes: bytes)
    let connection = connection
    eventLoop.execute { connection.value.enqueue(id, buffer, fin: fin, promise: promise) }
    do {
      try await promise.futureResult.get()
    } catch {
      throw .closed
    }
  }

  func acknowledge(stream id: UInt32, bytes: Int) {
    let connection = connection
    eventLoop.execute { connection.value.acknowledge(id, bytes: bytes) }
  }

  func reset(stream id: UInt32) {
    let connection = connection
    eventLoop.execute { connection.value.reset(id) }
  }

  func shutdown() {
    let connection = connection
    eventLoop.execute { connection.value.shutdown() }
  }

  /// Lets a session set a timer whose firing arrives among its events.
  func schedule(_ name: String, after delay: Duration, on events: AsyncStream<SPDYSessionEvent>.Continuation) {
    eventLoop.scheduleTask(in: .nanoseconds(Int64(delay.nanoseconds))) { events.yield(.timer(name)) }
  }
}

/// A stream the client opened, as a session sees it.
struct SPDYServerStream: Sendable {
  let id: UInt32
  let headers: SPDYHeaders
  /// The client's data; ends at its FIN or reset.
  let inbound: ByteStream
  let connection: SPDYConnectionRef

  var streamType: String? { headers.first(StreamProtocols.streamTypeHeader) }

  func write(_ bytes: [UInt8]) async throws(StreamWriteError) {
    try await connection.send(stream: id, bytes, fin: false)
  }

  /// Sends FIN once; later writes fail.
  func close() async {
    try? await connection.send(stream: id, [], fin: true)
  }

  var writer: ByteWriter {
    let stream = self
    return ByteWriter(
      send: { bytes throws(StreamWriteError) in try await stream.write(bytes) },
      finish: { await stream.close() })
  }
}

extension Duration {
  var nanoseconds: Int64 {
    let (seconds, attoseconds) = components
    return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
  }
}
