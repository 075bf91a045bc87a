import FoundationEssentials
import Support

/// containers-auth.json(5), as `global_auth_file` names it: credentials by
/// registry (`host[:port]`) or by repository (`host/namespace/...`), the most
/// specific entry winning, as containers/image looks them up. Docker's
/// `https://index.docker.io/v1/` key stands for docker.io. Only `auth`
/// (base64 of `user:password`) and `identitytoken` are used; credential
/// helpers are not run.
public struct AuthFile: Sendable, Equatable {
  private var entries: [String: Credentials]

  public init(entries: [String: Credentials]) {
    self.entries = entries
  }

  /// Parses the file's bytes; an error names what is wrong.
  public init(parsing bytes: [UInt8], path: String) throws(RegistryError) {
    struct Document: Decodable {
      struct Entry: Decodable {
        var auth: String?
        var identitytoken: String?
      }
      var auths: [String: Entry]?
    }
    let document: Document
    do {
      document = try JSONDecoder().decode(Document.self, from: Data(bytes))
    } catch {
      throw .invalidConfig(file: path, detail: "not a containers-auth.json document: \(error)")
    }
    var entries: [String: Credentials] = [:]
    for (key, entry) in document.auths ?? [:] {
      let credentials = Credentials(auth: entry.auth ?? "", identityToken: entry.identitytoken ?? "")
      guard !credentials.isEmpty else { continue }
      entries[Self.normalizedKey(key)] = credentials
    }
    self.entries = entries
  }

  /// Reads `path`; a missing file has no credentials (CRI-O's behaviour).
  public static func load(path: String) throws(RegistryError) -> AuthFile {
    guard !path.isEmpty, Files.kind(of: path) != .missing else { return AuthFile(entries: [:]) }
    do {
      return try AuthFile(parsing: try Files.readBytes(path), path: path)
    } catch let error as RegistryError {
      throw error
    } catch {
      throw .invalidConfig(file: path, detail: "cannot be read: \(error)")
    }
  }

  /// The credentials for `reference`: its repository path from the most
  /// specific (`host/a/b`) to the registry alone.
  public func credentials(for reference: ImageReference) -> Credentials? {
    var path = reference.registry + "/" + reference.repository
    while true {
      if let found = entries[path] { return found }
      guard let slash = path.lastIndex(of: "/") else { return nil }
      path = String(path[..<slash])
    }
  }

  /// `https://host/v1/` and `http://host` forms are the host's entry.
  static func normalizedKey(_ key: String) -> String {
    var text = Substring(key)
    for scheme in ["https://", "http://"] where text.hasPrefix(scheme) {
      text = text.dropFirst(scheme.count)
      text = text.prefix { $0 != "/" }
    }
    while text.hasSuffix("/") { text = text.dropLast() }
    return text == "index.docker.io" || text == "registry-1.docker.io" ? "docker.io" : String(text)
  }
}
