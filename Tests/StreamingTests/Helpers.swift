import Logging
import NIOCore
import NIOPosix
import Streaming
import Synchronization

/// A clock tests move by hand.
final class ManualClock: Sendable {
  private let offset = Mutex<Duration>(.zero)
  private let base = ContinuousClock.now

  func advance(by duration: Duration) {
    offset.withLock { $0 += duration }
  }

  var now: TokenCache.Clock {
    { [self] in base + offset.withLock { $0 } }
  }
}

/// Starts a server for one test and always stops it.
func withServer<T>(
  _ configuration: StreamingServerConfiguration = StreamingServerConfiguration(),
  runtime: TestRuntime = TestRuntime(),
  _ body: (StreamingServer, TestRuntime) async throws -> T
) async throws -> T {
  var logger = Logger(label: "streaming-test")
  logger.logLevel = .critical
  let server = try await StreamingServer.start(configuration: configuration, runtime: runtime, logger: logger)
  do {
    let result = try await body(server, runtime)
    await server.stop()
    return result
  } catch {
    await server.stop()
    throw error
  }
}

/// Sends `request` as raw bytes and returns the whole response text (the
/// server closes after refusing a request).
func rawHTTP(port: Int, _ request: String) async throws -> String {
  let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
    .connect(host: "127.0.0.1", port: port) { channel in
      channel.eventLoop.makeCompletedFuture {
        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
      }
    }
  return try await channel.executeThenClose { inbound, outbound in
    try await outbound.write(ByteBuffer(string: request))
    var response = ""
    for try await buffer in inbound { response += String(buffer: buffer) }
    return response
  }
}

/// A stream of the given chunks that then ends.
func chunks(_ parts: [String]) -> AsyncStream<[UInt8]> {
  AsyncStream { continuation in
    for part in parts { continuation.yield(Array(part.utf8)) }
    continuation.finish()
  }
}

/// Waits until `condition` holds, polling; false after `timeout`.
func eventually(timeout: Duration = .seconds(10), _ condition: () -> Bool) async -> Bool {
  let deadline = ContinuousClock.now + timeout
  while ContinuousClock.now < deadline {
    if condition() { return true }
    try? await Task.sleep(for: .milliseconds(20))
  }
  return condition()
}
