import StreamingWire
import Synchronization

/// Streaming requests waiting for their client, each under a random token
/// that works once and only until it expires (kubelet's request cache:
/// CRI Exec returns a URL, the client connects to it soon after).
public final class TokenCache: Sendable {
  public typealias Clock = @Sendable () -> ContinuousClock.Instant

  private struct Entry {
    let request: StreamingRequest
    let expires: ContinuousClock.Instant
  }

  /// Random bytes per token; kubelet uses 8, more costs nothing.
  static let tokenBytes = 12

  private let entries = Mutex<[String: Entry]>([:])
  private let timeToLive: Duration
  private let capacity: Int
  private let now: Clock

  public init(timeToLive: Duration = .seconds(60), capacity: Int = 1000, now: @escaping Clock = { ContinuousClock.now }) {
    self.timeToLive = timeToLive
    self.capacity = capacity
    self.now = now
  }

  /// Stores `request` and returns its new token (URL-safe base64, no padding).
  public func insert(_ request: StreamingRequest) throws(StreamingRequestError) -> String {
    let now = now()
    let token = Self.makeToken()
    let stored: Bool = entries.withLock { entries in
      for (key, entry) in entries where entry.expires <= now {
        entries.removeValue(forKey: key)
      }
      guard entries.count < capacity else { return false }
      entries[token] = Entry(request: request, expires: now + timeToLive)
      return true
    }
    guard stored else { throw .tooManyPendingRequests(limit: capacity) }
    return token
  }

  /// Takes the request stored under `token`; nil when unknown, already
  /// taken or expired.
  public func consume(_ token: String) -> StreamingRequest? {
    let now = now()
    guard let entry = entries.withLock({ $0.removeValue(forKey: token) }), entry.expires > now else { return nil }
    return entry.request
  }

  /// How many requests wait (expired ones count until the next insert).
  public var pendingCount: Int { entries.withLock { $0.count } }

  static func makeToken() -> String {
    var generator = SystemRandomNumberGenerator()
    let bytes = (0..<tokenBytes).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    return Base64.encode(bytes, alphabet: .urlSafeUnpadded)
  }
}
