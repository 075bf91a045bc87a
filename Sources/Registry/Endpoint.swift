/// One place to fetch an image from: a mirror or the primary location, with
/// the repository as that place names it.
public struct Endpoint: Hashable, Sendable, CustomStringConvertible {
  /// `host[:port]` as written in the reference or registries.conf.
  public var host: String
  public var repository: String
  /// Plain HTTP allowed, and HTTPS certificates not verified.
  public var insecure: Bool
  public var isMirror: Bool

  public init(host: String, repository: String, insecure: Bool = false, isMirror: Bool = false) {
    self.host = host
    self.repository = repository
    self.insecure = insecure
    self.isMirror = isMirror
  }

  public var description: String { host + "/" + repository }

  /// Docker Hub's API is not served at docker.io itself.
  var apiHost: String { host == ImageReference.defaultRegistry ? "registry-1.docker.io" : host }
}
