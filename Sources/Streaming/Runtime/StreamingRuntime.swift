/// What the daemon implements for the streaming server: the container side
/// of exec, attach and port-forward. The server owns the client connection;
/// the runtime only sees byte streams.
///
/// Each call runs in its own task. When the client goes away the task is
/// cancelled and `stdin` ends, so an implementation must return promptly on
/// cancellation (kill or detach from the process, close the pod socket).
public protocol StreamingRuntime: Sendable {
  /// Runs `request.command` in the container and returns its exit code.
  /// Throwing reports an internal error to the client (not an exit code).
  func exec(_ request: ExecRequest, io: StreamingIO) async throws -> Int32

  /// Connects `io` to the container's main process until it exits or the
  /// client detaches (stdin ends or the task is cancelled).
  func attach(_ request: AttachRequest, io: StreamingIO) async throws

  /// Connects `stream` to `port` inside the pod's network namespace until
  /// either side closes. Throwing sends the error text to the client.
  func portForward(podSandboxID: String, port: UInt16, stream: PortForwardStream) async throws
}
