/// The parts of a streaming URL (`http://127.0.0.1:10010/exec/<token>`)
/// a client needs to connect and ask.
struct StreamingURL: Sendable, Equatable {
  var host: String
  var port: Int
  /// Path and query, as sent in the request line.
  var target: String

  init(_ text: String) throws(StreamingClientError) {
    guard text.hasPrefix("http://") else { throw .invalidURL(text) }
    let rest = text.dropFirst("http://".count)
    let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
    let authority = rest[..<authorityEnd]
    target = authorityEnd == rest.endIndex ? "/" : String(rest[authorityEnd...])
    let hostPart: Substring
    let portPart: Substring?
    if authority.hasPrefix("[") {
      // An IPv6 literal: [::1]:port
      guard let close = authority.firstIndex(of: "]") else { throw .invalidURL(text) }
      hostPart = authority[authority.index(after: authority.startIndex)..<close]
      let after = authority[authority.index(after: close)...]
      portPart = after.hasPrefix(":") ? after.dropFirst() : nil
    } else if let colon = authority.lastIndex(of: ":") {
      hostPart = authority[..<colon]
      portPart = authority[authority.index(after: colon)...]
    } else {
      hostPart = authority
      portPart = nil
    }
    guard !hostPart.isEmpty else { throw .invalidURL(text) }
    host = String(hostPart)
    if let portPart {
      guard let port = Int(portPart), (1...65535).contains(port) else { throw .invalidURL(text) }
      self.port = port
    } else {
      port = 80
    }
  }

  /// The Host header value.
  var authority: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Why a streaming client call failed.
public enum StreamingClientError: Error, Sendable, Equatable {
  case invalidURL(String)
  /// The server answered the upgrade request with this status instead of 101.
  case upgradeRejected(status: Int, body: String)
  /// The server did something the protocol does not allow.
  case protocolViolation(String)
  /// The connection ended before the exchange finished.
  case connectionClosed
}
