import FoundationEssentials

/// What an exec or attach produced, as client-go would report it.
public struct ExecResult: Sendable, Equatable {
  public var stdout: [UInt8]
  public var stderr: [UInt8]
  /// The raw bytes of the error stream (a Status JSON from v4 on).
  public var errorStream: [UInt8]
  /// The negotiated protocol.
  public var protocolName: String
  /// The command's exit code, when the server reported one (0 for success).
  public var exitCode: Int32?
  /// The server's failure message, when the session failed otherwise.
  public var failure: String?

  public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
  public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}

/// Reads the error stream the way client-go's remotecommand does:
/// errorDecoderV4 for v4/v5 (a metav1.Status; exit code from the ExitCode
/// cause of a NonZeroExitCode failure), plain text before.
enum ErrorStreamDecoder {
  private struct Status: Decodable {
    var status: String?
    var message: String?
    var reason: String?
    var details: Details?

    struct Details: Decodable {
      var causes: [Cause]?
    }

    struct Cause: Decodable {
      var reason: String?
      var message: String?
    }
  }

  static func decode(_ bytes: [UInt8], statusJSON: Bool) -> (exitCode: Int32?, failure: String?) {
    guard statusJSON else {
      return bytes.isEmpty ? (0, nil) : (nil, String(decoding: bytes, as: UTF8.self))
    }
    guard !bytes.isEmpty else { return (nil, "no status on the error stream") }
    guard let status = try? JSONDecoder().decode(Status.self, from: Data(bytes)) else {
      return (nil, "error stream is not a Status: \(String(decoding: bytes, as: UTF8.self))")
    }
    switch status.status {
    case "Success":
      return (0, nil)
    case "Failure" where status.reason == "NonZeroExitCode":
      let code = status.details?.causes?.first { $0.reason == "ExitCode" }?.message.flatMap { Int32($0) }
      guard let code else { return (nil, "NonZeroExitCode without an exit code: \(status.message ?? "")") }
      return (code, nil)
    default:
      return (nil, status.message ?? "unknown failure")
    }
  }
}
