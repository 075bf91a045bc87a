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

  func serialized() -> [UInt8] {
    let bodyBytes = Array(body.utf8)
    let head = "HTTP/1.1 \(status) \(reason)\r\nContent-Type: \(contentType)\r\nContent-Length: \(bodyBytes.count)\r\nConnection: close\r\n\r\n"
    return Array(head.utf8) + bodyBytes
  }
}

/// Answers one inspection request.
public typealias HTTP1Responder = @Sendable (HTTP1Request) async -> HTTP1Response
