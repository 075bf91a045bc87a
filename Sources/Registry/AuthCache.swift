import Synchronization

/// What the client has learnt about authorising against registries: the
/// challenge each host answered with, and bearer tokens until they expire.
/// Remembering the challenge lets later requests (every layer of a pull)
/// carry a token straight away instead of collecting a 401 first.
final class AuthCache: Sendable {
  struct TokenKey: Hashable {
    var realm: String
    var service: String
    var scope: String
    var identity: String
  }

  private struct Token {
    var value: String
    var expires: ContinuousClock.Instant
  }

  private struct State {
    var tokens: [TokenKey: Token] = [:]
    var challenges: [String: AuthChallenge] = [:]
  }

  private let state = Mutex(State())

  func challenge(for host: String) -> AuthChallenge? {
    state.withLock { $0.challenges[host] }
  }

  func remember(_ challenge: AuthChallenge, for host: String) {
    state.withLock { $0.challenges[host] = challenge }
  }

  func token(for key: TokenKey) -> String? {
    state.withLock { state in
      guard let token = state.tokens[key] else { return nil }
      guard token.expires > .now else {
        state.tokens[key] = nil
        return nil
      }
      return token.value
    }
  }

  func store(_ value: String, for key: TokenKey, lifetime: Duration) {
    let expires = ContinuousClock.now + lifetime
    state.withLock { state in
      // Drop expired tokens so the cache stays as small as the live set.
      let now = ContinuousClock.now
      state.tokens = state.tokens.filter { $0.value.expires > now }
      state.tokens[key] = Token(value: value, expires: expires)
    }
  }

  func forget(_ key: TokenKey) {
    _ = state.withLock { $0.tokens.removeValue(forKey: key) }
  }
}
