/// What a CRI Exec call asked for; stored under a token until the client
/// connects, so the command and stream flags come from here, never from the
/// URL's query.
public struct ExecRequest: Sendable, Equatable {
  public var containerID: String
  public var command: [String]
  public var tty: Bool
  public var stdin: Bool
  public var stdout: Bool
  public var stderr: Bool

  public init(containerID: String, command: [String], tty: Bool = false, stdin: Bool = false, stdout: Bool = true, stderr: Bool = true) {
    self.containerID = containerID
    self.command = command
    self.tty = tty
    self.stdin = stdin
    self.stdout = stdout
    self.stderr = stderr
  }

  var streams: RequestedStreams { RequestedStreams(stdin: stdin, stdout: stdout, stderr: stderr, tty: tty) }
}

/// What a CRI Attach call asked for.
public struct AttachRequest: Sendable, Equatable {
  public var containerID: String
  public var tty: Bool
  public var stdin: Bool
  public var stdout: Bool
  public var stderr: Bool

  public init(containerID: String, tty: Bool = false, stdin: Bool = false, stdout: Bool = true, stderr: Bool = true) {
    self.containerID = containerID
    self.tty = tty
    self.stdin = stdin
    self.stdout = stdout
    self.stderr = stderr
  }

  var streams: RequestedStreams { RequestedStreams(stdin: stdin, stdout: stdout, stderr: stderr, tty: tty) }
}

/// What a CRI PortForward call asked for. SPDY clients name the port on each
/// stream; WebSocket clients get one channel pair per port listed here (or,
/// when this is empty, per `port` query parameter, as kubelet reads them).
public struct PortForwardRequest: Sendable, Equatable {
  public var podSandboxID: String
  public var ports: [UInt16]

  public init(podSandboxID: String, ports: [UInt16] = []) {
    self.podSandboxID = podSandboxID
    self.ports = ports
  }
}

/// A request waiting under a token.
public enum StreamingRequest: Sendable, Equatable {
  case exec(ExecRequest)
  case attach(AttachRequest)
  case portForward(PortForwardRequest)

  /// The URL path segment: `/exec/<token>` and so on.
  var pathKind: String {
    switch self {
    case .exec: "exec"
    case .attach: "attach"
    case .portForward: "portforward"
    }
  }
}

/// Why a request cannot be registered (kubelet's and CRI-O's checks; the
/// daemon maps these to gRPC InvalidArgument / ResourceExhausted).
public enum StreamingRequestError: Error, Sendable, Equatable, CustomStringConvertible {
  case missingContainerID
  case missingPodSandboxID
  case ttyWithStderr
  case noStreams
  case tooManyPendingRequests(limit: Int)

  public var description: String {
    switch self {
    case .missingContainerID: "missing required container_id"
    case .missingPodSandboxID: "missing required pod_sandbox_id"
    case .ttyWithStderr: "tty and stderr cannot both be true"
    case .noStreams: "one of stdin, stdout, or stderr must be set"
    case .tooManyPendingRequests(let limit): "too many pending streaming requests (limit \(limit))"
    }
  }
}

/// The streams an exec or attach session carries.
struct RequestedStreams: Sendable, Equatable {
  var stdin: Bool
  var stdout: Bool
  var stderr: Bool
  var tty: Bool

  func validate() throws(StreamingRequestError) {
    if tty && stderr { throw .ttyWithStderr }
    if !stdin && !stdout && !stderr { throw .noStreams }
  }
}
