import Crypto
import FoundationEssentials

/// Registry credentials as the kubelet sends them (CRI AuthConfig).
public struct Credentials: Sendable, Equatable {
  public var username: String
  public var password: String
  /// base64 of `username:password`, used when username is empty.
  public var auth: String
  /// An OAuth2 refresh token for the registry's token service.
  public var identityToken: String
  /// A bearer token sent to the registry as is.
  public var registryToken: String

  public init(username: String = "", password: String = "", auth: String = "", identityToken: String = "", registryToken: String = "") {
    self.username = username
    self.password = password
    self.auth = auth
    self.identityToken = identityToken
    self.registryToken = registryToken
  }

  public var isEmpty: Bool {
    username.isEmpty && password.isEmpty && auth.isEmpty && identityToken.isEmpty && registryToken.isEmpty
  }

  /// Username and password, from the fields or decoded from `auth`.
  var basicPair: (username: String, password: String)? {
    if !username.isEmpty { return (username, password) }
    guard !auth.isEmpty, let data = Data(base64Encoded: auth) else { return nil }
    let text = String(decoding: data, as: UTF8.self)
    guard let colon = text.firstIndex(of: ":") else { return nil }
    return (String(text[..<colon]), String(text[text.index(after: colon)...]))
  }

  /// `Authorization: Basic ...` for these credentials, if they have a pair.
  var basicAuthorization: String? {
    guard let pair = basicPair else { return nil }
    return "Basic " + Data("\(pair.username):\(pair.password)".utf8).base64EncodedString()
  }

  /// Tells credentials apart in cache keys without keeping secrets there.
  var identity: String {
    if isEmpty { return "" }
    let pair = basicPair
    let material = [pair?.username ?? "", pair?.password ?? "", identityToken, registryToken].joined(separator: "\u{0}")
    return SHA256.hash(data: Array(material.utf8)).map { byte in
      let digits = String(byte, radix: 16)
      return byte < 16 ? "0" + digits : digits
    }.joined()
  }
}
