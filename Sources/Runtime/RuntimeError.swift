import Support

/// What went wrong running a container. Messages name the container and carry
/// what runc or conmon printed.
public enum RuntimeError: Error, Sendable, Equatable, CustomStringConvertible {
  /// A file or process operation of the daemon itself failed.
  case system(SystemError, context: String)
  /// conmon reported that `runc create` failed; `message` is runc's error.
  case createFailed(id: String, message: String)
  /// conmon itself failed (bad arguments, exited without reporting).
  case conmonFailed(id: String, reason: String, output: String)
  /// The pod's monitor (runtime_type "pod") cannot be reached: it is not
  /// running, or it died.
  case monitorUnreachable(id: String, reason: String)
  /// The pod's monitor ended while it held the request: what it was asked
  /// may have been done in part (a `runc create` it started lives on).
  case monitorDied(id: String, reason: String)
  /// The pod's monitor answered with an error (runc's words, when runc failed).
  case monitorFailed(id: String, message: String)
  /// A runc command exited non-zero.
  case runtimeFailed(id: String, operation: String, status: Int32, stderr: String)
  /// runc knows no container by this id.
  case notFound(id: String)
  /// An operation did not finish in time.
  case timedOut(id: String, operation: String, seconds: Double)
  /// runc printed something this daemon cannot read.
  case invalidOutput(id: String, operation: String, output: String)
  /// The bundle's config.json cannot be encoded or decoded.
  case invalidSpec(path: String, reason: String)

  public var description: String {
    switch self {
    case .system(let error, let context):
      "\(context): \(error)"
    case .createFailed(let id, let message):
      "container create failed for \(id): \(message)"
    case .conmonFailed(let id, let reason, let output):
      "conmon failed for container \(id): \(reason)" + (output.isEmpty ? "" : ": \(output)")
    case .monitorUnreachable(let id, let reason):
      "the pod monitor of container \(id) cannot be reached: \(reason)"
    case .monitorDied(let id, let reason):
      "the pod monitor of container \(id) died during the request: \(reason)"
    case .monitorFailed(let id, let message):
      "the pod monitor failed for container \(id): \(message)"
    case .runtimeFailed(let id, let operation, let status, let stderr):
      "runtime \(operation) of container \(id) failed (exit status \(status))" + (stderr.isEmpty ? "" : ": \(stderr)")
    case .notFound(let id):
      "container \(id) does not exist in the runtime"
    case .timedOut(let id, let operation, let seconds):
      "\(operation) of container \(id) timed out after \(seconds) s"
    case .invalidOutput(let id, let operation, let output):
      "cannot read the runtime's \(operation) output for container \(id): \(output)"
    case .invalidSpec(let path, let reason):
      "invalid runtime spec \(path): \(reason)"
    }
  }
}

extension String {
  /// Without surrounding whitespace and newlines.
  var trimmed: String {
    let scalars = unicodeScalars
    let isSpace: (Unicode.Scalar) -> Bool = { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }
    guard let first = scalars.firstIndex(where: { !isSpace($0) }),
      let last = scalars.lastIndex(where: { !isSpace($0) })
    else { return "" }
    return String(scalars[first...last])
  }
}
