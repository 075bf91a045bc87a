import AsyncHTTPClient
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// Sending requests: URLs, the HTTPS-then-HTTP fallback for insecure
/// registries, retries of transient failures, and reading bodies.
extension RegistryClient {
  /// One GET to the registry, retried while the failure is transient. For an
  /// insecure endpoint HTTPS (unverified) is tried first and plain HTTP after
  /// it fails, as containers-image does; the scheme that worked is remembered
  /// per host so the fallback costs one failed handshake per daemon.
  func send(_ endpoint: Endpoint, path: String, headers: HTTPHeaders) async throws(RegistryError) -> HTTPClientResponse {
    try await withRetries(host: endpoint.host) { () async throws -> HTTPClientResponse in
      guard endpoint.insecure else {
        return try await self.execute(self.request("https://\(endpoint.apiHost)\(path)", headers: headers), verify: true)
      }
      let knownPlain = self.plainHTTPHosts.withLock { $0[endpoint.apiHost] }
      if knownPlain != true {
        do {
          let response = try await self.execute(
            self.request("https://\(endpoint.apiHost)\(path)", headers: headers), verify: false)
          if knownPlain == nil { self.plainHTTPHosts.withLock { $0[endpoint.apiHost] = false } }
          return response
        } catch {
          if knownPlain == false || Self.isCancellation(error) { throw error }
          self.logger.debug("HTTPS to insecure registry \(endpoint.host) failed (\(Self.describe(error))); trying plain HTTP")
        }
      }
      let response = try await self.execute(self.request("http://\(endpoint.apiHost)\(path)", headers: headers), verify: false)
      if knownPlain == nil { self.plainHTTPHosts.withLock { $0[endpoint.apiHost] = true } }
      return response
    }
  }

  func request(_ url: String, method: HTTPMethod = .GET, headers: HTTPHeaders, body: [UInt8]? = nil) -> HTTPClientRequest {
    var request = HTTPClientRequest(url: url)
    request.method = method
    request.headers = headers
    request.headers.replaceOrAdd(name: "User-Agent", value: Self.userAgent)
    if let body { request.body = .bytes(body) }
    return request
  }

  func execute(_ request: HTTPClientRequest, verify: Bool) async throws -> HTTPClientResponse {
    guard let client = client(verifying: verify) else { throw HTTPClientError.alreadyShutdown }
    return try await client.execute(request, timeout: requestTimeout.timeAmount, logger: logger)
  }

  /// Runs `operation` up to three times while it fails to connect or the
  /// server answers 5xx or 429, waiting 200 ms then 400 ms. Other 4xx are
  /// final. The last 5xx/429 response is returned for the caller to report.
  func withRetries(
    host: String, _ operation: () async throws -> HTTPClientResponse
  ) async throws(RegistryError) -> HTTPClientResponse {
    let attempts = retryDelays.count + 1
    for attempt in 1...attempts {
      if Task.isCancelled { throw .cancelled }
      do {
        let response = try await operation()
        let code = response.status.code
        guard (code >= 500 || code == 429) && attempt < attempts else { return response }
        logger.debug("registry \(host) answered HTTP \(code); retrying (attempt \(attempt) of \(attempts))")
        await discard(response)
      } catch {
        if Task.isCancelled || Self.isCancellation(error) { throw .cancelled }
        if Self.isPermanent(error) { throw .badResponse("\(host): \(Self.describe(error))") }
        guard attempt < attempts else {
          throw .unavailable(host: host, detail: "\(Self.describe(error)) (after \(attempts) attempts)")
        }
        logger.debug("request to registry \(host) failed: \(Self.describe(error)); retrying (attempt \(attempt) of \(attempts))")
      }
      do {
        try await Task.sleep(for: retryDelays[attempt - 1])
      } catch {
        throw .cancelled
      }
    }
    // The loop returns or throws on its last attempt.
    throw .cancelled
  }

  /// Turns a non-2xx answer (after authorisation) into the error it means.
  func requireSuccess(_ response: HTTPClientResponse, what: String, endpoint: Endpoint) async throws(RegistryError) {
    let code = response.status.code
    guard !(200..<300).contains(code) else { return }
    let detail = await errorDetail(response)
    switch code {
    case 404:
      throw .notFound(what: what)
    case 500..., 429:
      throw .unavailable(host: endpoint.host, detail: "HTTP \(code) for \(what) after \(retryDelays.count + 1) attempts\(detail)")
    default:
      throw .badResponse("HTTP \(code) for \(what)\(detail)")
    }
  }

  /// The registry's error message from a failed response, as ": message",
  /// or "" when it sent none.
  func errorDetail(_ response: HTTPClientResponse) async -> String {
    guard let buffer = try? await response.body.collect(upTo: 64 << 10) else { return "" }
    return DistributionErrors.summary(of: Array(buffer: buffer)).map { ": " + $0 } ?? ""
  }

  /// Reads and drops a body so its connection can be reused.
  func discard(_ response: HTTPClientResponse) async {
    _ = try? await response.body.collect(upTo: 1 << 20)
  }

  /// Reads a whole body of at most `limit` bytes; fails if nothing arrives
  /// for the request timeout.
  func readBody(_ response: HTTPClientResponse, limit: Int, what: String, host: String) async throws(RegistryError) -> [UInt8] {
    if let length = response.headers.first(name: "Content-Length").flatMap(Int.init), length > limit {
      throw .badResponse("\(what) is \(length) bytes, more than the \(limit) allowed")
    }
    do {
      return try await withProgressTimeout(requestTimeout) { meter async throws -> [UInt8] in
        var bytes: [UInt8] = []
        for try await chunk in response.body {
          meter.touch()
          guard bytes.count + chunk.readableBytes <= limit else {
            throw RegistryError.badResponse("\(what) is larger than the \(limit) bytes allowed")
          }
          bytes += chunk.readableBytesView
        }
        if Task.isCancelled { throw RegistryError.cancelled }
        return bytes
      }
    } catch {
      throw mapStreamError(error, what: what, host: host)
    }
  }

  /// An error from reading a body (directly or via the watchdog) as a RegistryError.
  func mapStreamError(_ error: any Error, what: String, host: String) -> RegistryError {
    switch error {
    case let error as RegistryError: error
    case is StalledError: .noProgress(seconds: max(1, requestTimeout.wholeSeconds))
    case _ where Self.isCancellation(error): .cancelled
    default: .unavailable(host: host, detail: "reading \(what) failed: \(Self.describe(error))")
    }
  }

  static func isCancellation(_ error: any Error) -> Bool {
    error is CancellationError || (error as? HTTPClientError) == .cancelled
  }

  /// Failures that another attempt cannot fix.
  static func isPermanent(_ error: any Error) -> Bool {
    guard let error = error as? HTTPClientError else { return false }
    return [.invalidURL, .emptyHost, .emptyScheme, .redirectLimitReached, .redirectCycleDetected, .alreadyShutdown]
      .contains(error) || "\(error)".contains("unsupportedScheme")
  }

  /// A short, readable account of a transport error; NIO's own descriptions
  /// run to several lines of addresses and nested types.
  static func describe(_ error: any Error) -> String {
    if let error = error as? HTTPClientError {
      switch error {
      case .connectTimeout: return "connection timed out"
      case .remoteConnectionClosed: return "the server closed the connection"
      case .deadlineExceeded: return "no response in time"
      case .readTimeout: return "read timed out"
      case .tlsHandshakeTimeout: return "TLS handshake timed out"
      default: break
      }
    }
    let text = String(describing: error)
    let known: [(String, String)] = [
      ("WRONG_VERSION_NUMBER", "the server does not speak TLS (if it serves plain HTTP, mark the registry insecure)"),
      ("Connection refused", "connection refused"),
      ("Connection reset", "connection reset by the server"),
      ("NIOSSL", "TLS failed"),
      ("handshake", "TLS failed"),
      ("certificate", "TLS certificate not accepted"),
      ("NXDOMAIN", "host name not found"),
      ("Name or service not known", "host name not found"),
      ("No address associated", "host name not found"),
    ]
    for (needle, summary) in known where text.contains(needle) {
      return "\(summary) (\(text.prefix(200)))"
    }
    return String(text.prefix(300))
  }
}
