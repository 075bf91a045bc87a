/// The pod monitor's request/response protocol: one request, one answer,
/// on a stream Unix socket in the pod's run directory. Each message is a
/// frame: a 4-byte big-endian length of what follows, the protocol version,
/// the message kind, then its fields (`WireWriter`). Sizes are bounded
/// both ways (`maximumRequest`, `maximumResponse`) and checked before any
/// allocation.
public enum MonitorProtocol {
  /// Bumped when a message changes shape; a monitor answers another
  /// version with an error naming both, so a daemon upgraded under running
  /// pods learns why instead of misreading fields.
  public static let version: UInt8 = 1
  /// Requests are small (IDs, paths, a command line): 1 MiB is far beyond
  /// any real one and bounds what a client can make the monitor buffer.
  public static let maximumRequest = 1 << 20
  /// ExecSync's output (16 MiB at most, see `Runtime.ExecOutput`) plus room.
  public static let maximumResponse = (16 << 20) + (64 << 10)
  /// The socket's name in the pod's run directory.
  public static let socketName = "monitor.sock"
  /// The monitor's PID, written once it listens.
  public static let pidFileName = "monitor.pid"
}

/// What a container needs from the monitor to be created.
public struct CreateContainer: Sendable, Equatable {
  public var id: String
  public var bundle: String
  public var logPath: String
  public var terminal: Bool
  public var stdin: Bool
  public var stdinOnce: Bool

  public init(id: String, bundle: String, logPath: String, terminal: Bool, stdin: Bool, stdinOnce: Bool) {
    self.id = id
    self.bundle = bundle
    self.logPath = logPath
    self.terminal = terminal
    self.stdin = stdin
    self.stdinOnce = stdinOnce
  }
}

public enum MonitorRequest: Sendable, Equatable {
  /// Who is there: the monitor's PID and version.
  case hello
  /// `runc create` with the container's stdio held by the monitor.
  case create(CreateContainer)
  /// `runc start`.
  case start(id: String)
  /// `runc exec` collecting output up to `outputLimit` bytes; killed after `timeoutMilliseconds`.
  case execSync(id: String, command: [String], timeoutMilliseconds: Int64, outputLimit: UInt32)
  /// Resizes the container's terminal.
  case resize(id: String, width: UInt16, height: UInt16)
  /// Reopens the container's log file (kubelet rotated it).
  case reopenLog(id: String)
  /// Ends the monitor: its containers are killed, their exits recorded.
  case shutdown
  /// `runc exec` for a streaming session: the answer `execStarted` carries
  /// the command's stdio (pipes, or the terminal's master) as descriptors,
  /// and `execExited` follows on the same connection when it ends.
  case exec(id: String, command: [String], tty: Bool, stdin: Bool)

  var kind: UInt8 {
    switch self {
    case .hello: 1
    case .create: 2
    case .start: 3
    case .execSync: 4
    case .resize: 5
    case .reopenLog: 6
    case .shutdown: 7
    case .exec: 8
    }
  }

  func encodeBody(_ writer: inout WireWriter) {
    switch self {
    case .hello, .shutdown: break
    case .create(let request):
      writer.string(request.id)
      writer.string(request.bundle)
      writer.string(request.logPath)
      writer.bool(request.terminal)
      writer.bool(request.stdin)
      writer.bool(request.stdinOnce)
    case .start(let id), .reopenLog(let id):
      writer.string(id)
    case .execSync(let id, let command, let timeout, let limit):
      writer.string(id)
      writer.strings(command)
      writer.i64(timeout)
      writer.u32(limit)
    case .resize(let id, let width, let height):
      writer.string(id)
      writer.u32(UInt32(width))
      writer.u32(UInt32(height))
    case .exec(let id, let command, let tty, let stdin):
      writer.string(id)
      writer.strings(command)
      writer.bool(tty)
      writer.bool(stdin)
    }
  }

  static func decodeBody(kind: UInt8, _ reader: inout WireReader) throws(WireError) -> MonitorRequest {
    switch kind {
    case 1: return .hello
    case 2:
      let request = CreateContainer(
        id: try containerID(&reader), bundle: try reader.string(), logPath: try reader.string(),
        terminal: try reader.bool(), stdin: try reader.bool(), stdinOnce: try reader.bool())
      guard request.bundle.hasPrefix("/") else { throw .invalidValue("bundle \(request.bundle) is not absolute") }
      guard request.logPath.hasPrefix("/") else { throw .invalidValue("log path \(request.logPath) is not absolute") }
      return .create(request)
    case 3: return .start(id: try containerID(&reader))
    case 4:
      let id = try containerID(&reader)
      let command = try reader.strings()
      guard !command.isEmpty else { throw .invalidValue("empty command") }
      let timeout = try reader.i64()
      guard timeout >= 0 else { throw .invalidValue("negative timeout") }
      return .execSync(id: id, command: command, timeoutMilliseconds: timeout, outputLimit: try reader.u32())
    case 5:
      let id = try containerID(&reader)
      let width = try reader.u32(), height = try reader.u32()
      guard width <= UInt16.max, height <= UInt16.max else { throw .invalidValue("terminal size \(width)x\(height)") }
      return .resize(id: id, width: UInt16(width), height: UInt16(height))
    case 6: return .reopenLog(id: try containerID(&reader))
    case 7: return .shutdown
    case 8:
      let id = try containerID(&reader)
      let command = try reader.strings()
      guard !command.isEmpty else { throw .invalidValue("empty command") }
      return .exec(id: id, command: command, tty: try reader.bool(), stdin: try reader.bool())
    default: throw .unknownKind(kind)
    }
  }

  /// Container IDs name files (exit file, attach link): a path separator
  /// or a dot name would reach outside their directories.
  private static func containerID(_ reader: inout WireReader) throws(WireError) -> String {
    let id = try reader.string()
    guard !id.isEmpty, id.utf8.count <= 128, id != ".", id != "..", !id.utf8.contains(UInt8(ascii: "/")), !id.utf8.contains(0) else {
      throw .invalidValue("container id \(id.debugDescription)")
    }
    return id
  }
}

/// Why a request failed, so the daemon can map it to the right error.
public enum MonitorFailure: UInt8, Sendable, Equatable {
  /// The request could not be read (malformed, oversized, wrong version).
  case badRequest = 1
  /// No such container in this monitor.
  case notFound = 2
  /// runc or a system call failed; the message has their words.
  case failed = 3
  /// The monitor is shutting down.
  case shuttingDown = 4
}

public enum MonitorResponse: Sendable, Equatable {
  case ok
  case hello(pid: Int32)
  /// The container's init process.
  case created(pid: Int32)
  case execSync(exitCode: Int32, stdout: [UInt8], stderr: [UInt8], timedOut: Bool)
  case error(MonitorFailure, String)
  /// A streaming exec runs: `runc`'s PID (for signals), the file runc
  /// writes the command's PID to; the stdio descriptors travel with it.
  case execStarted(runc: Int32, pidFile: String)
  /// The streaming exec's command ended with this code.
  case execExited(code: Int32)

  var kind: UInt8 {
    switch self {
    case .ok: 1
    case .hello: 2
    case .created: 3
    case .execSync: 4
    case .error: 5
    case .execStarted: 6
    case .execExited: 7
    }
  }

  func encodeBody(_ writer: inout WireWriter) {
    switch self {
    case .ok: break
    case .hello(let pid), .created(let pid): writer.i32(pid)
    case .execSync(let code, let stdout, let stderr, let timedOut):
      writer.i32(code)
      writer.data(stdout)
      writer.data(stderr)
      writer.bool(timedOut)
    case .error(let failure, let message):
      writer.u8(failure.rawValue)
      writer.string(message)
    case .execStarted(let runc, let pidFile):
      writer.i32(runc)
      writer.string(pidFile)
    case .execExited(let code):
      writer.i32(code)
    }
  }

  static func decodeBody(kind: UInt8, _ reader: inout WireReader) throws(WireError) -> MonitorResponse {
    switch kind {
    case 1: return .ok
    case 2: return .hello(pid: try reader.i32())
    case 3: return .created(pid: try reader.i32())
    case 4:
      return .execSync(exitCode: try reader.i32(), stdout: try reader.data(), stderr: try reader.data(), timedOut: try reader.bool())
    case 5:
      let raw = try reader.u8()
      guard let failure = MonitorFailure(rawValue: raw) else { throw .unknownKind(raw) }
      return .error(failure, try reader.string())
    case 6: return .execStarted(runc: try reader.i32(), pidFile: try reader.string())
    case 7: return .execExited(code: try reader.i32())
    default: throw .unknownKind(kind)
    }
  }
}
