/// The part of an HTTP/1 request the inspection API needs.
public struct HTTP1Request: Sendable, Equatable {
  public var method: String
  /// The path without the query string.
  public var path: String

  /// Parses the request line of a request head (`GET /info HTTP/1.1`).
  init?(head: String) {
    let requestLine = head.split(separator: "\r\n", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
    let parts = requestLine.split(separator: " ", omittingEmptySubsequences: true)
    guard parts.count == 3, parts[2].hasPrefix("HTTP/1."), parts[1].hasPrefix("/") else { return nil }
    method = String(parts[0])
    path = String(parts[1].split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0])
  }

  public init(method: String, path: String) {
    self.method = method
    self.path = path
  }
}

/// A complete HTTP/1 response; the connection is closed after it.
public struct HTTP1Response: Sendable, Equatable {
  public var status: Int
  public var reason: String
  public var contentType: String
  public var body: String

  public init(status: Int, reason: String, contentType: String = "text/plain; charset=utf-8", body: String) {
    self.status = status
    self.reason = reason
    self.contentType = contentType
    self.body = body
  }

  public func serialized() -> [UInt8] {
    let bodyBytes = Array(body.utf8)
    let head = "HTTP/1.1 \(status) \(reason)\r\nContent-Type: \(contentType)\r\nContent-Length: \(bodyBytes.count)\r\nConnection: close\r\n\r\n"
    return Array(head.utf8) + bodyBytes
  }
}

/// Answers one inspection request.
public typealias HTTP1Responder = @Sendable (HTTP1Request) async -> HTTP1Response

/// How the listener reads the first bytes of a connection: pure functions of
/// the bytes received so far, which `ProtocolSniffer` calls on every read.
/// Public for the fuzz package (Fuzz/), which links Support alone.
public enum ConnectionSniffing {
  static let http2Preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
  /// Requests larger than this are not inspection requests; answer 431.
  static let maxHTTP1HeadBytes = 8192

  public enum Kind: Equatable, Sendable {
    /// A prefix of the HTTP/2 preface: wait for more.
    case undecided
    case http2
    case http1
  }

  public static func classify(_ seen: some Collection<UInt8>) -> Kind {
    let compared = min(seen.count, http2Preface.count)
    if seen.prefix(compared).elementsEqual(http2Preface.prefix(compared)) {
      return compared == http2Preface.count ? .http2 : .undecided
    }
    // An HTTP/1 request line starts with an upper-case method token; anything
    // else goes to the HTTP/2 handler, which rejects it the standard way.
    if let first = seen.first, (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(first) { return .http1 }
    return .http2
  }

  /// What an HTTP/1 connection's bytes so far hold.
  public enum Head: Equatable, Sendable {
    /// No blank line yet, and not so much that waiting is pointless.
    case incomplete
    case tooLarge
    case malformed
    case request(HTTP1Request)
  }

  public static func parseHead(_ seen: some Collection<UInt8>) -> Head {
    guard let headEnd = seen.firstRange(of: Array("\r\n\r\n".utf8)) else {
      return seen.count > maxHTTP1HeadBytes ? .tooLarge : .incomplete
    }
    let head = String(decoding: seen[..<headEnd.lowerBound], as: UTF8.self)
    return HTTP1Request(head: head).map { .request($0) } ?? .malformed
  }
}
