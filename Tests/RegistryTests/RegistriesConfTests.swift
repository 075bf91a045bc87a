import OCI
import Registry
import Support
import Testing

struct RegistriesConfTests {
  static let sample = """
    unqualified-search-registries = ["registry.fedoraproject.org", "quay.io", "docker.io"]
    short-name-mode = "enforcing"

    [[registry]]
    prefix = "example.com/foo"
    location = "internal.example.net/bar"

    [[registry.mirror]]
    location = "mirror-one.example.net/cache"

    [[registry.mirror]]
    location = "mirror-two.example.net:5000/cache"
    insecure = true

    [[registry.mirror]]
    location = "digests.example.net/only"
    pull-from-mirror = "digest-only"

    [[registry]]
    prefix = "example.com"
    location = "example.com"
    insecure = true

    [[registry]]
    location = "blocked.example.org"
    blocked = true

    [[registry]]
    prefix = "*.corp.example"
    [[registry.mirror]]
    location = "proxy.corp.example/cache"

    [[registry]]
    location = "docker.io"
    mirror-by-digest-only = true
    [[registry.mirror]]
    location = "hub-mirror.local:5000"

    [aliases]
    "pause" = "registry.k8s.io/pause"
    "tools/jq" = "quay.io/tools/jq"
    """

  static func conf() throws -> RegistriesConf {
    try RegistriesConf.parse(toml: sample, file: "/etc/containers/registries.conf")
  }

  static func endpoints(_ text: String, extraInsecure: [String] = []) throws -> [String] {
    try conf().endpoints(for: ImageReference(parsing: text), extraInsecure: extraInsecure).map { endpoint in
      "\(endpoint)\(endpoint.insecure ? " insecure" : "")\(endpoint.isMirror ? " mirror" : "")"
    }
  }

  @Test func parsesVersion2() throws {
    let conf = try Self.conf()
    #expect(conf.unqualifiedSearchRegistries == ["registry.fedoraproject.org", "quay.io", "docker.io"])
    #expect(conf.shortNameMode == "enforcing")
    #expect(conf.registries.map(\.prefix) == ["example.com/foo", "example.com", "blocked.example.org", "*.corp.example", "docker.io"])
    let foo = try #require(conf.registries.first)
    #expect(foo.location == "internal.example.net/bar")
    #expect(foo.mirrors.map(\.location) == ["mirror-one.example.net/cache", "mirror-two.example.net:5000/cache", "digests.example.net/only"])
    #expect(foo.mirrors.map(\.insecure) == [false, true, false])
    #expect(foo.mirrors[2].pullFromMirror == .digestOnly)
    #expect(conf.registries[2].blocked)
    #expect(conf.registries[3].location == "")
    #expect(conf.aliases == ["pause": "registry.k8s.io/pause", "tools/jq": "quay.io/tools/jq"])
  }

  @Test func mirrorsComeFirstInOrderWithTheRepositoryRewritten() throws {
    #expect(try Self.endpoints("example.com/foo/app:1") == [
      "mirror-one.example.net/cache/app mirror",
      "mirror-two.example.net:5000/cache/app insecure mirror",
      "internal.example.net/bar/app",
    ])
  }

  @Test func digestOnlyMirrorsServeOnlyDigestReferences() throws {
    let digest = "sha256:" + String(repeating: "a", count: 64)
    #expect(try Self.endpoints("example.com/foo/app@\(digest)") == [
      "mirror-one.example.net/cache/app mirror",
      "mirror-two.example.net:5000/cache/app insecure mirror",
      "digests.example.net/only/app mirror",
      "internal.example.net/bar/app",
    ])
    // mirror-by-digest-only on the registry: a tag goes to the primary only.
    #expect(try Self.endpoints("busybox") == ["docker.io/library/busybox"])
    #expect(try Self.endpoints("busybox@\(digest)") == ["hub-mirror.local:5000/library/busybox mirror", "docker.io/library/busybox"])
  }

  @Test func longestPrefixWinsAndPrefixesMatchWholeComponents() throws {
    #expect(try Self.endpoints("example.com/other/app") == ["example.com/other/app insecure"])
    // "example.com/foobar" is not under the "example.com/foo" prefix.
    #expect(try Self.endpoints("example.com/foobar") == ["example.com/foobar insecure"])
    #expect(try Self.endpoints("unknown.example/app") == ["unknown.example/app"])
  }

  @Test func wildcardPrefixKeepsTheReferenceAndRewritesMirrors() throws {
    #expect(try Self.endpoints("registry.corp.example/team/app") == [
      "proxy.corp.example/cache/team/app mirror", "registry.corp.example/team/app",
    ])
    // The bare domain is not a subdomain of itself.
    #expect(try Self.endpoints("corp.example/team/app") == ["corp.example/team/app"])
  }

  @Test func blockedRegistryThrows() throws {
    let reference = try ImageReference(parsing: "blocked.example.org/evil/app:1")
    #expect(throws: RegistryError.blocked("blocked.example.org/evil/app")) {
      _ = try Self.conf().endpoints(for: reference)
    }
  }

  @Test func extraInsecureMatchesHostsAndCIDRRanges() throws {
    #expect(try Self.endpoints("unknown.example/app", extraInsecure: ["unknown.example"]) == ["unknown.example/app insecure"])
    #expect(try Self.endpoints("10.1.2.3:5000/app", extraInsecure: ["10.0.0.0/8"]) == ["10.1.2.3:5000/app insecure"])
    #expect(try Self.endpoints("11.1.2.3:5000/app", extraInsecure: ["10.0.0.0/8"]) == ["11.1.2.3:5000/app"])
    #expect(try Self.endpoints("[::1]:5000/app", extraInsecure: ["::1/128"]) == ["[::1]:5000/app insecure"])
    #expect(try Self.endpoints("localhost:5000/app", extraInsecure: ["localhost:5000"]) == ["localhost:5000/app insecure"])
  }

  @Test func candidatesForShortQualifiedAndAliasedNames() throws {
    let conf = try Self.conf()
    #expect(try conf.candidates(for: "alpine:3").map(\.description) == [
      "registry.fedoraproject.org/alpine:3", "quay.io/alpine:3", "docker.io/library/alpine:3",
    ])
    #expect(try conf.candidates(for: "team/app").map(\.description) == [
      "registry.fedoraproject.org/team/app:latest", "quay.io/team/app:latest", "docker.io/team/app:latest",
    ])
    #expect(try conf.candidates(for: "quay.io/a/b:1").map(\.description) == ["quay.io/a/b:1"])
    #expect(try conf.candidates(for: "pause:3.10").map(\.description) == ["registry.k8s.io/pause:3.10"])
    #expect(try conf.candidates(for: "tools/jq").map(\.description) == ["quay.io/tools/jq:latest"])
    let digest = "sha256:" + String(repeating: "b", count: 64)
    #expect(try conf.candidates(for: "pause@\(digest)").map(\.description) == ["registry.k8s.io/pause@\(digest)"])
    // Without search registries Docker Hub is the one place to look.
    #expect(try RegistriesConf().candidates(for: "busybox").map(\.description) == ["docker.io/library/busybox:latest"])
    #expect(throws: RegistryError.self) { _ = try conf.candidates(for: "Bad/Name:") }
  }

  @Test func loadsDropInsInLexicalOrder() async throws {
    try await withTemporaryDirectory { directory in
      try Files.write(directory + "/registries.conf", Self.sample)
      try Files.makeDirectories(directory + "/registries.conf.d", mode: 0o755)
      try Files.write(directory + "/registries.conf.d/20-override.conf", """
        unqualified-search-registries = ["second.example"]
        [[registry]]
        prefix = "example.com"
        location = "example.com"
        insecure = false
        [aliases]
        "pause" = "mirror.example/pause"
        """)
      try Files.write(directory + "/registries.conf.d/10-first.conf", """
        unqualified-search-registries = ["first.example"]
        [aliases]
        "busybox" = "docker.io/library/busybox"
        """)
      try Files.write(directory + "/registries.conf.d/30-ignored.txt", "this is not TOML")
      let conf = try RegistriesConf.load(path: directory + "/registries.conf", dropInDir: directory + "/registries.conf.d")
      #expect(conf.unqualifiedSearchRegistries == ["second.example"])
      #expect(conf.aliases["pause"] == "mirror.example/pause")
      #expect(conf.aliases["busybox"] == "docker.io/library/busybox")
      #expect(conf.aliases["tools/jq"] == "quay.io/tools/jq")
      #expect(conf.registries.count == 5)
      #expect(conf.registry(for: "example.com/x")?.insecure == false)
    }
  }

  @Test func missingFilesAreAnEmptyConfiguration() throws {
    let conf = try RegistriesConf.load(path: "/nonexistent/registries.conf", dropInDir: "/nonexistent/registries.conf.d")
    #expect(conf == RegistriesConf())
  }

  @Test func version1IsTranslated() throws {
    let conf = try RegistriesConf.parse(toml: """
      [registries.search]
      registries = ["quay.io", "docker.io"]
      [registries.insecure]
      registries = ["localhost:5000"]
      [registries.block]
      registries = ["bad.example"]
      """, file: "v1.conf")
    #expect(conf.unqualifiedSearchRegistries == ["quay.io", "docker.io"])
    #expect(conf.registry(for: "localhost:5000/app")?.insecure == true)
    #expect(conf.registry(for: "bad.example/app")?.blocked == true)
  }

  struct BadFile: CustomTestStringConvertible, Sendable {
    var toml: String
    var detail: String
    var testDescription: String { detail }
  }

  static let badFiles: [BadFile] = [
    BadFile(toml: "unqualified-search-registries = [\"a\"\n", detail: "invalid TOML at line"),
    BadFile(toml: "[[registry]]\nlocation = \"a.example\"\ninsecure = \"yes\"\n", detail: "[[registry]] #1 insecure: expected true or false"),
    BadFile(toml: "unqualified-search-registries = \"docker.io\"\n", detail: "unqualified-search-registries: expected an array of strings"),
    BadFile(toml: "unqualified-search-registries = [1]\n", detail: "expected an array of strings"),
    BadFile(toml: "unqualified-search-registries = [\"docker.io/library\"]\n", detail: "is not a registry host name"),
    BadFile(toml: "[[registry]]\ninsecure = true\n", detail: "neither prefix nor location"),
    BadFile(toml: "[[registry]]\nlocation = \"https://a.example\"\n", detail: "URL schemes are not supported"),
    BadFile(toml: "[[registry]]\nlocation = \"a.example\"\n[[registry.mirror]]\nlocation = \"m.example\"\npull-from-mirror = \"sometimes\"\n",
            detail: "pull-from-mirror: \"sometimes\""),
    BadFile(toml: "[[registry]]\nprefix = \"a.*.example\"\n", detail: "is only allowed as \"*.domain\""),
    BadFile(toml: "[[registry]]\nprefix = \"*.example/app\"\n", detail: "a wildcard prefix must be *.domain"),
    BadFile(toml: "[[registry]]\nlocation = \"a.example\"\n[[registry]]\nlocation = \"a.example\"\n", detail: "defined more than once"),
    BadFile(toml: "[aliases]\n\"quay.io/x\" = \"quay.io/x\"\n", detail: "must be a short name"),
    BadFile(toml: "[aliases]\n\"x\" = \"x\"\n", detail: "must be a fully-qualified name"),
    BadFile(toml: "[aliases]\n\"x\" = \"quay.io/x:1\"\n", detail: "without tag or digest"),
    BadFile(toml: "short-name-mode = \"sometimes\"\n", detail: "not one of enforcing"),
    BadFile(toml: "unqualified-search-registries = []\n[registries.search]\nregistries = []\n", detail: "mixes the version 1"),
    BadFile(toml: "unqualified-search-registries = [\"a\\u0000b\"]\n", detail: "NUL"),
    // Found by Fuzz/fuzz-config: toml++ aborts the process on a table name that
    // starts with anything but a bare-key character or a quote.
    BadFile(toml: "[[\u{FFFD}registry]]\nlocation = \"a\"\n", detail: "line 1, column 3: a table name must start with"),
    // Found by Fuzz/fuzz-registries: the same for a date-time without a time.
    BadFile(toml: "[aliases]\n\"a\" = 1977-05-27T`07:32:00Z\n", detail: "line 2, column 18: a time must follow"),
    BadFile(toml: "x = [1977-05-27, 1977-05-27tZ]\n", detail: "line 1, column 29: a time must follow"),
  ]

  @Test(arguments: badFiles)
  func errorsNameTheFileAndKey(_ bad: BadFile) {
    #expect {
      _ = try RegistriesConf.parse(toml: bad.toml, file: "/etc/containers/registries.conf.d/50-bad.conf")
    } throws: { error in
      guard case .invalidConfig(let file, let detail) = error as? RegistryError else { return false }
      return file == "/etc/containers/registries.conf.d/50-bad.conf" && detail.contains(bad.detail)
    }
  }

  @Test func loadNamesTheDropInThatIsBroken() async throws {
    try await withTemporaryDirectory { directory in
      try Files.write(directory + "/main.conf", "unqualified-search-registries = [\"docker.io\"]\n")
      try Files.makeDirectories(directory + "/d", mode: 0o755)
      try Files.write(directory + "/d/01-bad.conf", "[[registry]\n")
      #expect {
        _ = try RegistriesConf.load(path: directory + "/main.conf", dropInDir: directory + "/d")
      } throws: { error in
        guard case .invalidConfig(let file, _) = error as? RegistryError else { return false }
        return file == directory + "/d/01-bad.conf"
      }
    }
  }

  @Test func aPrefixAloneIsItsOwnLocation() throws {
    let conf = try RegistriesConf.parse(toml: "[[registry]]\nprefix = \"a.example/ns\"\nblocked = true\n", file: "b.conf")
    #expect(conf.registries == [RegistriesConf.Registry(prefix: "a.example/ns", location: "a.example/ns", blocked: true)])
    #expect(throws: RegistryError.blocked("a.example/ns/app")) {
      _ = try conf.endpoints(for: ImageReference(parsing: "a.example/ns/app"))
    }
    #expect(try conf.endpoints(for: ImageReference(parsing: "a.example/other")).map(\.description) == ["a.example/other"])
  }

  @Test func unknownKeysAreReportedAsWarnings() throws {
    let conf = try RegistriesConf.parse(toml: "no-such-key = 1\nunqualified-search-registries = []\n", file: "w.conf")
    #expect(conf.warnings == ["w.conf: unknown key no-such-key, ignored"])
  }
}
