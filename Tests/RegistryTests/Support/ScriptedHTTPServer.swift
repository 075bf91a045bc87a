import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A request as the scripted server received it.
struct ScriptedRequest: Sendable {
  var method: String
  /// Path and query, as sent.
  var target: String
  var headers: [(name: String, value: String)]
  var body: [UInt8]

  var path: Substring { target.prefix { $0 != "?" } }

  func header(_ name: String) -> String? {
    headers.first { $0.name.lowercased() == name.lowercased() }?.value
  }

  /// Decoded query or form fields.
  static func fields(_ text: Substring) -> [String: String] {
    var result: [String: String] = [:]
    for pair in text.split(separator: "&") {
      let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
      result[parts[0]] = parts.count > 1 ? parts[1] : ""
    }
    return result
  }

  var query: [String: String] {
    guard let mark = target.firstIndex(of: "?") else { return [:] }
    return Self.fields(target[target.index(after: mark)...])
  }
}

/// What the scripted server answers.
struct ScriptedResponse: Sendable {
  var status: Int
  var headers: [(name: String, value: String)] = []
  var body: [UInt8] = []
  /// Sends the head (with the full Content-Length) and only this many body
  /// bytes, then holds the connection open until the client leaves or the
  /// server stops.
  var stallAfter: Int?

  init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = [], stallAfter: Int? = nil) {
    self.status = status
    self.headers = headers
    self.body = body
    self.stallAfter = stallAfter
  }

  init(status: Int, headers: [(name: String, value: String)] = [], json: String) {
    self.init(status: status, headers: headers + [("Content-Type", "application/json")], body: Array(json.utf8))
  }
}

/// A small HTTP/1.1 server on 127.0.0.1 whose answers a test scripts, for
/// what a real registry will not do on demand: token services, 5xx, stalls,
/// redirects. One thread per connection, `Connection: close` on every answer.
final class ScriptedHTTPServer: Sendable {
  let port: Int
  private let listener: Int32
  private let handler: @Sendable (ScriptedRequest) -> ScriptedResponse
  private let log = Mutex<[ScriptedRequest]>([])
  private let stopping = Mutex(false)
  /// Connections currently being served, so `stop` can wait for them.
  private let active = Mutex(0)

  var host: String { "127.0.0.1:\(port)" }
  var requests: [ScriptedRequest] { log.withLock { $0 } }

  init(_ handler: @escaping @Sendable (ScriptedRequest) -> ScriptedResponse) throws {
    self.handler = handler
    listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let fd = listener
    let ok = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 && listen(fd, 64) == 0
      }
    }
    guard ok else {
      close(listener)
      throw POSIXError(.EADDRNOTAVAIL)
    }
    port = Int(UInt16(bigEndian: address.sin_port))
    Thread.detachNewThread { [self] in acceptLoop() }
  }

  /// Stops accepting, releases stalled connections and waits for them.
  func stop() async {
    stopping.withLock { $0 = true }
    shutdown(listener, Int32(SHUT_RDWR))
    close(listener)
    while active.withLock({ $0 }) > 0 {
      try? await Task.sleep(for: .milliseconds(5))
    }
  }

  private func acceptLoop() {
    while !stopping.withLock({ $0 }) {
      let connection = accept(listener, nil, nil)
      guard connection >= 0 else {
        if errno == EINTR { continue }
        return
      }
      active.withLock { $0 += 1 }
      Thread.detachNewThread { [self] in
        serve(connection)
        close(connection)
        active.withLock { $0 -= 1 }
      }
    }
  }

  private func serve(_ fd: Int32) {
    var timeout = timeval(tv_sec: 5, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var buffer: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    var headEnd: Int?
    while headEnd == nil {
      let n = recv(fd, &chunk, chunk.count, 0)
      guard n > 0 else { return }
      buffer += chunk[..<n]
      // A TLS ClientHello (the client's HTTPS attempt): not HTTP, hang up.
      if buffer.first == 0x16 { return }
      headEnd = buffer.firstRange(of: Array("\r\n\r\n".utf8))?.upperBound
    }
    let head = String(decoding: buffer[..<headEnd!], as: UTF8.self)
    let lines = head.components(separatedBy: "\r\n").filter { !$0.isEmpty }
    let requestLine = lines.first?.split(separator: " ") ?? []
    guard requestLine.count >= 2 else { return }
    var headers: [(name: String, value: String)] = []
    for line in lines.dropFirst() {
      guard let colon = line.firstIndex(of: ":") else { continue }
      headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
    }
    var body = Array(buffer[headEnd!...])
    let wanted = headers.first { $0.name.lowercased() == "content-length" }.flatMap { Int($0.value) } ?? 0
    while body.count < wanted {
      let n = recv(fd, &chunk, chunk.count, 0)
      guard n > 0 else { return }
      body += chunk[..<n]
    }
    let request = ScriptedRequest(method: String(requestLine[0]), target: String(requestLine[1]), headers: headers, body: body)
    log.withLock { $0.append(request) }
    respond(fd, handler(request))
  }

  private func respond(_ fd: Int32, _ response: ScriptedResponse) {
    var head = "HTTP/1.1 \(response.status) Scripted\r\nConnection: close\r\nContent-Length: \(response.body.count)\r\n"
    for header in response.headers { head += "\(header.name): \(header.value)\r\n" }
    head += "\r\n"
    let sendable = response.stallAfter.map { Array(response.body.prefix($0)) } ?? response.body
    guard write(fd, Array(head.utf8) + sendable) else { return }
    guard response.stallAfter != nil else { return }
    // Hold the connection until the client gives up or the test ends.
    while !stopping.withLock({ $0 }) {
      var probe: UInt8 = 0
      let n = recv(fd, &probe, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
      if n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) { return }
      usleep(5000)
    }
  }

  /// MSG_NOSIGNAL: a client that hung up must not kill the test with SIGPIPE.
  private func write(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
    var offset = 0
    while offset < bytes.count {
      let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
      guard n > 0 else { return false }
      offset += n
    }
    return true
  }
}
