import AsyncHTTPClient
import FoundationEssentials
import Logging
import NIOCore
import NIOHTTP1

/// Authorisation: send what is known to work, and on a 401 answer the
/// challenge (Basic, or Bearer through the registry's token service) once.
extension RegistryClient {
  /// An Authorization header value, and the cached token it came from (to
  /// forget when the registry refuses it).
  struct Authorization {
    var header: String
    var tokenKey: AuthCache.TokenKey?
  }

  /// GET on the registry with authorisation. Returns any response other than
  /// 401/403; those become `.unauthorized`.
  func authorizedGET(
    _ endpoint: Endpoint, path: String, accept: [String]?, credentials: Credentials?
  ) async throws(RegistryError) -> HTTPClientResponse {
    var headers = HTTPHeaders()
    if let accept { headers.add(name: "Accept", value: accept.joined(separator: ", ")) }
    var authorization = cachedAuthorization(endpoint, credentials: credentials)
    var answeredChallenge = false
    while true {
      var sent = headers
      if let authorization { sent.replaceOrAdd(name: "Authorization", value: authorization.header) }
      let response = try await send(endpoint, path: path, headers: sent)
      switch response.status.code {
      case 401:
        let challenges = AuthChallenge.parse(response.headers["WWW-Authenticate"])
        let detail = await errorDetail(response)
        if let key = authorization?.tokenKey { authCache.forget(key) }
        // A token given by the kubelet is all there is to try.
        let fixedToken = !(credentials?.registryToken.isEmpty ?? true)
        guard !answeredChallenge, !fixedToken else {
          throw unauthorized(endpoint, credentials, detail)
        }
        answeredChallenge = true
        authorization = try await answer(challenges, endpoint: endpoint, credentials: credentials, detail: detail)
      case 403:
        let detail = await errorDetail(response)
        throw .unauthorized(registry: endpoint.host, detail: "access to \(endpoint.repository) is denied\(detail)")
      default:
        return response
      }
    }
  }

  func unauthorized(_ endpoint: Endpoint, _ credentials: Credentials?, _ detail: String) -> RegistryError {
    if credentials?.isEmpty ?? true {
      return .unauthorized(
        registry: endpoint.host, detail: "the registry requires credentials and none were given\(detail)")
    }
    return .unauthorized(
      registry: endpoint.host, detail: "the registry rejected the credentials (wrong user name, password or token?)\(detail)")
  }

  /// What to send before any 401: the kubelet's registry token, or what the
  /// host's last challenge showed works (Basic credentials, a cached token).
  func cachedAuthorization(_ endpoint: Endpoint, credentials: Credentials?) -> Authorization? {
    if let token = credentials?.registryToken, !token.isEmpty {
      return Authorization(header: "Bearer " + token)
    }
    guard let challenge = authCache.challenge(for: endpoint.host) else { return nil }
    switch challenge.scheme {
    case "basic":
      return credentials?.basicAuthorization.map { Authorization(header: $0) }
    case "bearer":
      guard let key = tokenKey(challenge, endpoint: endpoint, credentials: credentials),
        let token = authCache.token(for: key)
      else { return nil }
      return Authorization(header: "Bearer " + token, tokenKey: key)
    default:
      return nil
    }
  }

  func tokenKey(_ challenge: AuthChallenge, endpoint: Endpoint, credentials: Credentials?) -> AuthCache.TokenKey? {
    guard let realm = challenge["realm"], !realm.isEmpty else { return nil }
    return AuthCache.TokenKey(
      realm: realm, service: challenge["service"] ?? "", scope: "repository:\(endpoint.repository):pull",
      identity: credentials?.identity ?? "")
  }

  /// Answers a 401's challenges: Bearer is preferred, then Basic.
  func answer(
    _ challenges: [AuthChallenge], endpoint: Endpoint, credentials: Credentials?, detail: String
  ) async throws(RegistryError) -> Authorization {
    if let bearer = challenges.first(where: { $0.scheme == "bearer" }) {
      guard let key = tokenKey(bearer, endpoint: endpoint, credentials: credentials) else {
        throw .badResponse("\(endpoint.host) asked for a bearer token without naming its token service (realm)")
      }
      authCache.remember(bearer, for: endpoint.host)
      let token = try await fetchToken(key, endpoint: endpoint, credentials: credentials)
      return Authorization(header: "Bearer " + token, tokenKey: key)
    }
    if let basic = challenges.first(where: { $0.scheme == "basic" }) {
      authCache.remember(basic, for: endpoint.host)
      guard let header = credentials?.basicAuthorization else { throw unauthorized(endpoint, nil, detail) }
      return Authorization(header: header)
    }
    if challenges.isEmpty {
      throw .unauthorized(registry: endpoint.host, detail: "the registry answered 401 without a WWW-Authenticate challenge\(detail)")
    }
    let schemes = challenges.map(\.scheme).joined(separator: ", ")
    throw .unauthorized(registry: endpoint.host, detail: "unsupported authentication scheme (\(schemes))")
  }

  /// A pull token from the registry's token service (distribution's token
  /// auth spec), cached for its lifetime. An identity token is exchanged with
  /// the OAuth2 refresh-token grant; otherwise a GET, with Basic credentials
  /// when there are any (anonymous tokens are how public images are pulled).
  func fetchToken(
    _ key: AuthCache.TokenKey, endpoint: Endpoint, credentials: Credentials?
  ) async throws(RegistryError) -> String {
    if let cached = authCache.token(for: key) { return cached }
    guard key.realm.hasPrefix("https://") || key.realm.hasPrefix("http://") else {
      throw .badResponse("\(endpoint.host) named a token service that is not an http(s) URL: \(key.realm)")
    }
    var fields: [(String, String)] = []
    if !key.service.isEmpty { fields.append(("service", key.service)) }
    fields.append(("scope", key.scope))
    var headers = HTTPHeaders()
    let request: HTTPClientRequest
    if let identityToken = credentials?.identityToken, !identityToken.isEmpty {
      fields += [("grant_type", "refresh_token"), ("refresh_token", identityToken), ("client_id", Self.userAgent)]
      headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
      request = self.request(
        key.realm, method: .POST, headers: headers, body: Array(FormEncoding.encode(fields).utf8))
    } else {
      if let pair = credentials?.basicPair { fields.append(("account", pair.username)) }
      if let basic = credentials?.basicAuthorization { headers.add(name: "Authorization", value: basic) }
      let separator = key.realm.contains("?") ? "&" : "?"
      request = self.request(key.realm + separator + FormEncoding.encode(fields), headers: headers)
    }
    let realmHost = Self.host(ofURL: key.realm)
    let response = try await withRetries(host: realmHost) { () async throws -> HTTPClientResponse in
      try await self.execute(request, verify: !endpoint.insecure)
    }
    let code = response.status.code
    guard (200..<300).contains(code) else {
      let detail = await errorDetail(response)
      switch code {
      case 401, 403:
        let given = !(credentials?.isEmpty ?? true)
        throw .unauthorized(
          registry: endpoint.host,
          detail: given
            ? "the token service \(realmHost) rejected the credentials (wrong user name, password or token?)\(detail)"
            : "the token service \(realmHost) requires credentials and none were given\(detail)")
      case 500..., 429:
        throw .unavailable(host: realmHost, detail: "token service answered HTTP \(code)\(detail)")
      default:
        throw .badResponse("token service \(realmHost) answered HTTP \(code)\(detail)")
      }
    }
    let body = try await readBody(response, limit: 1 << 20, what: "token response", host: realmHost)
    struct TokenResponse: Decodable {
      var token: String?
      var access_token: String?
      var expires_in: Int?
    }
    guard let decoded = try? JSONDecoder().decode(TokenResponse.self, from: Data(body)),
      let token = [decoded.token, decoded.access_token].compactMap({ $0 }).first(where: { !$0.isEmpty })
    else {
      throw .badResponse("token service \(realmHost) answered without a token")
    }
    // The spec's default lifetime is 60 s; renew a little early.
    let lifetime = max(decoded.expires_in ?? 60, 60)
    authCache.store(token, for: key, lifetime: .seconds(lifetime - 5))
    logger.debug("got a pull token for \(endpoint.repository) from \(realmHost), valid \(lifetime)s")
    return token
  }

  /// `https://auth.example.com:8443/token?x` -> `auth.example.com:8443`.
  static func host(ofURL url: String) -> String {
    var rest = Substring(url)
    if let scheme = rest.firstRange(of: "://") { rest = rest[scheme.upperBound...] }
    return String(rest.prefix { $0 != "/" && $0 != "?" })
  }
}
