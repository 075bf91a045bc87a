import Registry
import Support
import Testing

/// containers-auth.json as `global_auth_file` reads it.
@Suite struct AuthFileTests {
  static let file = Array("""
    {"auths": {
      "quay.io": {"auth": "aG9zdDpwdw=="},
      "quay.io/team/app": {"auth": "cmVwbzpwdw=="},
      "localhost:5000": {"auth": "cG9ydDpwdw=="},
      "https://index.docker.io/v1/": {"auth": "aHViOnB3"},
      "empty.example.com": {}
    }}
    """.utf8)

  @Test(arguments: [
    ("quay.io/team/app:1", "cmVwbzpwdw=="),  // the repository's own entry wins
    ("quay.io/team/other:1", "aG9zdDpwdw=="),  // else the registry's
    ("localhost:5000/busybox:1", "cG9ydDpwdw=="),
    ("docker.io/library/busybox:1", "aHViOnB3"),
  ])
  func theMostSpecificEntryWins(name: String, auth: String) throws {
    let credentials = try AuthFile(parsing: Self.file, path: "auth.json").credentials(for: try ImageReference(parsing: name))
    #expect(credentials?.auth == auth)
  }

  @Test func registriesWithoutAnEntryGetNothing() throws {
    let file = try AuthFile(parsing: Self.file, path: "auth.json")
    #expect(file.credentials(for: try ImageReference(parsing: "ghcr.io/x/y:1")) == nil)
    #expect(file.credentials(for: try ImageReference(parsing: "empty.example.com/x:1")) == nil)
  }

  @Test func aMissingFileHasNoCredentialsAndABadOneIsNamed() throws {
    #expect(try AuthFile.load(path: "/nonexistent/auth.json") == AuthFile(entries: [:]))
    #expect(try AuthFile.load(path: "") == AuthFile(entries: [:]))
    #expect(throws: RegistryError.self) { try AuthFile(parsing: Array("{not json".utf8), path: "/etc/crio/auth.json") }
  }
}
