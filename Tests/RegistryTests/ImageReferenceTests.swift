import OCI
import Registry
import Testing

struct ImageReferenceTests {
  struct Valid: CustomTestStringConvertible, Sendable {
    var text: String
    var registry: String
    var repository: String
    var tag: String?
    var digest: String?
    var isShortName: Bool
    var description: String
    var testDescription: String { text }
  }

  static let hex = String(repeating: "0123456789abcdef", count: 4)

  static let valid: [Valid] = [
    Valid(text: "busybox", registry: "docker.io", repository: "library/busybox", tag: "latest", isShortName: true,
          description: "docker.io/library/busybox:latest"),
    Valid(text: "busybox:1.36", registry: "docker.io", repository: "library/busybox", tag: "1.36", isShortName: true,
          description: "docker.io/library/busybox:1.36"),
    Valid(text: "library/busybox", registry: "docker.io", repository: "library/busybox", tag: "latest", isShortName: true,
          description: "docker.io/library/busybox:latest"),
    Valid(text: "foo/bar", registry: "docker.io", repository: "foo/bar", tag: "latest", isShortName: true,
          description: "docker.io/foo/bar:latest"),
    Valid(text: "docker.io/busybox", registry: "docker.io", repository: "library/busybox", tag: "latest", isShortName: false,
          description: "docker.io/library/busybox:latest"),
    Valid(text: "index.docker.io/library/busybox:1", registry: "docker.io", repository: "library/busybox", tag: "1",
          isShortName: false, description: "docker.io/library/busybox:1"),
    Valid(text: "quay.io/prometheus/node-exporter:v1.8.0", registry: "quay.io", repository: "prometheus/node-exporter",
          tag: "v1.8.0", isShortName: false, description: "quay.io/prometheus/node-exporter:v1.8.0"),
    Valid(text: "localhost/foo", registry: "localhost", repository: "foo", tag: "latest", isShortName: false,
          description: "localhost/foo:latest"),
    Valid(text: "localhost:5000/foo/bar:tag", registry: "localhost:5000", repository: "foo/bar", tag: "tag",
          isShortName: false, description: "localhost:5000/foo/bar:tag"),
    Valid(text: "127.0.0.1:5000/a/b/c:1.0", registry: "127.0.0.1:5000", repository: "a/b/c", tag: "1.0", isShortName: false,
          description: "127.0.0.1:5000/a/b/c:1.0"),
    Valid(text: "[::1]:5000/foo:bar", registry: "[::1]:5000", repository: "foo", tag: "bar", isShortName: false,
          description: "[::1]:5000/foo:bar"),
    Valid(text: "[fe80::1]/foo", registry: "[fe80::1]", repository: "foo", tag: "latest", isShortName: false,
          description: "[fe80::1]/foo:latest"),
    Valid(text: "busybox@sha256:\(hex)", registry: "docker.io", repository: "library/busybox", digest: "sha256:\(hex)",
          isShortName: true, description: "docker.io/library/busybox@sha256:\(hex)"),
    Valid(text: "registry.k8s.io/pause:3.10@sha256:\(hex)", registry: "registry.k8s.io", repository: "pause", tag: "3.10",
          digest: "sha256:\(hex)", isShortName: false, description: "registry.k8s.io/pause:3.10@sha256:\(hex)"),
    Valid(text: "my-registry.example.com/team/app_name:v1_2-3.x", registry: "my-registry.example.com",
          repository: "team/app_name", tag: "v1_2-3.x", isShortName: false,
          description: "my-registry.example.com/team/app_name:v1_2-3.x"),
    Valid(text: "example.com/a__b/c--d/e.f", registry: "example.com", repository: "a__b/c--d/e.f", tag: "latest",
          isShortName: false, description: "example.com/a__b/c--d/e.f:latest"),
    // Docker takes an upper-case first component for a host name.
    Valid(text: "Example/foo", registry: "Example", repository: "foo", tag: "latest", isShortName: false,
          description: "Example/foo:latest"),
    // Without a slash the colon is a tag separator, not a port.
    Valid(text: "foo:5000", registry: "docker.io", repository: "library/foo", tag: "5000", isShortName: true,
          description: "docker.io/library/foo:5000"),
    Valid(text: "ghcr.io/owner/repo:_under", registry: "ghcr.io", repository: "owner/repo", tag: "_under",
          isShortName: false, description: "ghcr.io/owner/repo:_under"),
    // 255 characters once normalised, the most there may be.
    Valid(text: String(repeating: "a", count: 237), registry: "docker.io", repository: "library/" + String(repeating: "a", count: 237),
          tag: "latest", isShortName: true, description: "docker.io/library/" + String(repeating: "a", count: 237) + ":latest"),
    Valid(text: "index.docker.io/ns/" + String(repeating: "a", count: 242), registry: "docker.io",
          repository: "ns/" + String(repeating: "a", count: 242), tag: "latest", isShortName: false,
          description: "docker.io/ns/" + String(repeating: "a", count: 242) + ":latest"),
  ]

  @Test(arguments: valid)
  func parsesValidReference(_ expected: Valid) throws {
    let reference = try ImageReference(parsing: expected.text)
    #expect(reference.registry == expected.registry)
    #expect(reference.repository == expected.repository)
    #expect(reference.tag == expected.tag)
    #expect(reference.digest?.description == expected.digest)
    #expect(reference.isShortName == expected.isShortName)
    #expect(reference.description == expected.description)
    #expect(reference.name == expected.registry + "/" + expected.repository)
    #expect(reference.tagOrDigest == (expected.digest ?? expected.tag))
    // The normalised text parses back to the same image.
    #expect(try ImageReference(parsing: reference.description) == reference)
  }

  struct Invalid: CustomTestStringConvertible, Sendable {
    var text: String
    /// A fragment the reason must contain.
    var reason: String
    var testDescription: String { text.isEmpty ? "(empty)" : String(text.prefix(40)) }
  }

  static let invalid: [Invalid] = [
    Invalid(text: "", reason: "empty reference"),
    Invalid(text: "BusyBox", reason: "must be lowercase"),
    Invalid(text: "docker.io/Library/busybox", reason: "must be lowercase"),
    Invalid(text: "busybox:", reason: "empty tag"),
    Invalid(text: "busybox:-bad", reason: "invalid tag"),
    Invalid(text: "busybox:" + String(repeating: "t", count: 129), reason: "longer than 128"),
    Invalid(text: "busybox@sha256:abc", reason: "hex digits"),
    Invalid(text: "busybox@md5:\(hex)", reason: "unsupported algorithm"),
    Invalid(text: "example.com/" + String(repeating: "a", count: 250), reason: "longer than 255"),
    // Found by Fuzz/fuzz-registry-text: the limit is on the normalised name,
    // or a short name parses to a reference whose printed form does not.
    Invalid(text: String(repeating: "a", count: 238), reason: "longer than 255"),
    Invalid(text: "ns/" + String(repeating: "a", count: 243), reason: "longer than 255"),
    Invalid(text: "foo//bar", reason: "empty path component"),
    Invalid(text: "foo/-bar", reason: "invalid path component"),
    Invalid(text: "foo_/bar", reason: "invalid path component"),
    Invalid(text: "localhost:port/foo", reason: "invalid port"),
    Invalid(text: "[::1/foo", reason: "unterminated IPv6"),
    Invalid(text: "[zz::1]:5000/foo", reason: "invalid IPv6"),
    Invalid(text: "a_b.example.com/foo", reason: "invalid registry host"),
    Invalid(text: "foo bar", reason: "invalid"),
    Invalid(text: hex, reason: "image ID"),
    Invalid(text: "example.com/", reason: "empty repository"),
  ]

  @Test(arguments: invalid)
  func rejectsInvalidReference(_ case_: Invalid) {
    #expect {
      _ = try ImageReference(parsing: case_.text)
    } throws: { error in
      guard case .invalidReference(let text, let reason) = error as? RegistryError else { return false }
      return text == case_.text && reason.contains(case_.reason)
    }
  }

  @Test func equalityIgnoresHowTheNameWasWritten() throws {
    let short = try ImageReference(parsing: "busybox")
    let full = try ImageReference(parsing: "docker.io/library/busybox:latest")
    #expect(short.isShortName && !full.isShortName)
    #expect(short == full)
    #expect(Set([short, full]).count == 1)
    #expect(try ImageReference(parsing: "busybox:1") != full)
  }

  @Test func withDigestKeepsTheTag() throws {
    let digest = try Digest(parsing: "sha256:\(Self.hex)")
    let pinned = try ImageReference(parsing: "quay.io/a/b:v1").withDigest(digest)
    #expect(pinned.description == "quay.io/a/b:v1@sha256:\(Self.hex)")
    #expect(pinned.tagOrDigest == "sha256:\(Self.hex)")
  }
}
