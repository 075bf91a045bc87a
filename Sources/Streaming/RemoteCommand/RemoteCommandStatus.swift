import Support
/// How an exec or attach ended, as the client is told on the error stream.
enum RemoteCommandOutcome: Sendable, Equatable {
  case exited(Int32)
  /// The runtime failed (not the command): an internal error.
  case failed(String)

  /// What goes on the error stream for `version`, or nil for nothing.
  ///
  /// v4+ write a metav1.Status as Go's json.Marshal orders it (client-go's
  /// errorDecoderV4 reads the exit code from the ExitCode cause); older
  /// versions write the error text and nothing on success. The message
  /// wording is kubelet's around CRI-O's exit error.
  func errorStreamBytes(_ version: RemoteCommandVersion) -> [UInt8]? {
    let json: String
    switch self {
    case .exited(0):
      guard version.writesStatusJSON else { return nil }
      json = #"{"metadata":{},"status":"Success"}"#
    case .exited(let code):
      let message = "command terminated with non-zero exit code: command terminated with exit code \(code)"
      guard version.writesStatusJSON else { return Array(message.utf8) }
      json = #"{"metadata":{},"status":"Failure","message":"# + Quoting.doubleQuoted(message)
        + #","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":""# + "\(code)"
        + #""}]}}"#
    case .failed(let reason):
      let cause = "error executing command in container: \(reason)"
      let message = "Internal error occurred: \(cause)"
      guard version.writesStatusJSON else { return Array(message.utf8) }
      json = #"{"metadata":{},"status":"Failure","message":"# + Quoting.doubleQuoted(message)
        + #","reason":"InternalError","details":{"causes":[{"message":"# + Quoting.doubleQuoted(cause) + #"}]},"code":500}"#
    }
    return Array(json.utf8)
  }
}
