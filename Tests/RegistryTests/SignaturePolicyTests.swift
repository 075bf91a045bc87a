import Registry
import Support
import Testing

struct SignaturePolicyTests {
  static func policy(_ json: String) throws -> SignaturePolicy {
    try SignaturePolicy.parse(json: Array(json.utf8), file: "/etc/containers/policy.json")
  }

  static func isAccepted(_ policy: SignaturePolicy, _ text: String) throws -> Bool {
    try policy.evaluate(ImageReference(parsing: text)) == .accept
  }

  @Test func defaultRejectRejectsEverything() throws {
    let policy = try Self.policy(#"{"default": [{"type": "reject"}]}"#)
    let decision = policy.evaluate(try ImageReference(parsing: "busybox"))
    guard case .reject(let reason) = decision else {
      Issue.record("expected a rejection, got \(decision)")
      return
    }
    #expect(reason.contains("default"))
  }

  @Test func insecureAcceptAnythingAccepts() throws {
    let policy = try Self.policy(#"{"default": [{"type": "insecureAcceptAnything"}], "transports": {"docker-daemon": {"": [{"type": "reject"}]}}}"#)
    #expect(try Self.isAccepted(policy, "quay.io/a/b:1"))
    #expect(try Self.isAccepted(SignaturePolicy.acceptAnything, "busybox"))
  }

  static let scoped = """
    {
      "default": [{"type": "reject"}],
      "transports": {
        "docker": {
          "docker.io": [{"type": "insecureAcceptAnything"}],
          "docker.io/library/busybox": [{"type": "reject"}],
          "docker.io/library/busybox:1.36": [{"type": "insecureAcceptAnything"}],
          "*.example.com": [{"type": "insecureAcceptAnything"}],
          "*.internal.example.com": [{"type": "reject"}],
          "quay.io/ns": [{"type": "reject"}],
          "quay.io": [{"type": "insecureAcceptAnything"}],
          "localhost:5000": [{"type": "insecureAcceptAnything"}]
        }
      }
    }
    """

  @Test(arguments: [
    ("busybox:1.36", true),  // the tag's own scope
    ("busybox", false),  // the repository's scope
    ("docker.io/library/alpine:3", true),  // the host's scope
    ("registry.example.com/team/app", true),  // wildcard
    ("a.internal.example.com/app", false),  // the longer wildcard wins
    ("quay.io/ns/app", false),  // namespace before host
    ("quay.io/other/app", true),
    ("localhost:5000/app", true),
    ("ghcr.io/owner/app", false),  // falls to the default
  ])
  func mostSpecificScopeWins(text: String, accepted: Bool) throws {
    #expect(try Self.isAccepted(Self.policy(Self.scoped), text) == accepted)
  }

  @Test func transportDefaultComesBeforeTheGlobalDefault() throws {
    let policy = try Self.policy(#"{"default": [{"type": "reject"}], "transports": {"docker": {"": [{"type": "insecureAcceptAnything"}], "quay.io": [{"type": "reject"}]}}}"#)
    #expect(try Self.isAccepted(policy, "ghcr.io/a/b"))
    #expect(try !Self.isAccepted(policy, "quay.io/a/b"))
  }

  @Test func digestScopeMatches() throws {
    let digest = "sha256:" + String(repeating: "c", count: 64)
    let policy = try Self.policy(#"{"default": [{"type": "reject"}], "transports": {"docker": {"quay.io/a/b@\#(digest)": [{"type": "insecureAcceptAnything"}]}}}"#)
    #expect(try Self.isAccepted(policy, "quay.io/a/b@\(digest)"))
    #expect(try !Self.isAccepted(policy, "quay.io/a/b:latest"))
  }

  @Test func signatureRequirementsRejectSayingWhy() throws {
    let policy = try Self.policy("""
      {"default": [{"type": "insecureAcceptAnything"}],
       "transports": {"docker": {"registry.redhat.io": [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": "/etc/pki/key.gpg"}],
                                 "ghcr.io": [{"type": "sigstoreSigned", "keyPath": "/k.pub"}]}}}
      """)
    for text in ["registry.redhat.io/ubi9:latest", "ghcr.io/a/b"] {
      let reference = try ImageReference(parsing: text)
      guard case .reject(let reason) = policy.evaluate(reference) else {
        Issue.record("\(text) was accepted")
        continue
      }
      #expect(reason.contains("signature verification is not supported"))
      #expect {
        try policy.check(reference)
      } throws: { error in
        guard case .rejectedByPolicy(let name, _) = error as? RegistryError else { return false }
        return name == reference.description
      }
    }
    #expect(try Self.isAccepted(policy, "quay.io/a/b"))
  }

  @Test(arguments: [
    ("{", "malformed JSON"),
    (#"{"transports": {}}"#, "\"default\" requirements are missing"),
    (#"{"default": "reject"}"#, "expected"),
    (#"{"default": [{"type": "acceptIfSunny"}]}"#, "unknown requirement type \"acceptIfSunny\""),
    (#"{"default": []}"#, "default has no requirements"),
    (#"{"default": [{"type": "reject"}], "transports": {"docker": {"quay.io": []}}}"#, "transports.docker \"quay.io\" has no requirements"),
    (#"{"default": [{"kind": "reject"}]}"#, "missing key \"type\""),
  ])
  func malformedPolicyNamesTheFile(json: String, detail: String) {
    #expect {
      _ = try Self.policy(json)
    } throws: { error in
      guard case .invalidConfig(let file, let message) = error as? RegistryError else { return false }
      return file == "/etc/containers/policy.json" && message.contains(detail)
    }
  }

  @Test func loadReadsTheFileAndAMissingFileIsAnError() async throws {
    try await withTemporaryDirectory { directory in
      try Files.write(directory + "/policy.json", #"{"default": [{"type": "insecureAcceptAnything"}]}"#)
      let policy = try SignaturePolicy.load(path: directory + "/policy.json")
      #expect(policy == .acceptAnything)
      #expect {
        _ = try SignaturePolicy.load(path: directory + "/missing.json")
      } throws: { error in
        guard case .invalidConfig(let file, _) = error as? RegistryError else { return false }
        return file == directory + "/missing.json" && "\(error)".contains("missing.json")
      }
    }
  }
}
