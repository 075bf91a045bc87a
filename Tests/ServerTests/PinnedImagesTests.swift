import FoundationEssentials
import OCI
import Storage
import Testing

@testable import Server

/// `pinned_images`: exact names, trailing-`*` patterns and the pause image.
@Suite struct PinnedImagesTests {
  static func image(tags: [String], digests: [String] = []) -> ImageRecord {
    let id = Digest.sha256(of: Array(tags.joined().utf8))
    return ImageRecord(
      id: id, repoTags: tags, repoDigests: digests, size: 1, manifestDigest: id, config: [], layers: [],
      pulledAt: Date(timeIntervalSinceReferenceDate: 0))
  }

  @Test(arguments: [
    (["quay.io/app/web:1"], "quay.io/app/web:1", true),
    (["quay.io/app/web:1"], "quay.io/app/web:2", false),
    (["quay.io/app/*"], "quay.io/app/worker:7", true),
    (["quay.io/app/*"], "quay.io/other/web:1", false),
    (["docker.io/library/busybox:*"], "docker.io/library/busybox:1.36", true),
    ([], "registry.k8s.io/pause:3.10", true),
    ([], "registry.k8s.io/pause:3.9", false),
  ])
  func namesAndPatterns(patterns: [String], tag: String, pinned: Bool) {
    let rules = PinnedImages(patterns: patterns, pauseImage: "registry.k8s.io/pause:3.10")
    #expect(rules.pins(Self.image(tags: [tag])) == pinned)
  }

  @Test func aRepoDigestOrTheIDPinsToo() {
    let record = Self.image(tags: [], digests: ["quay.io/app/web@sha256:" + String(repeating: "a", count: 64)])
    #expect(PinnedImages(patterns: ["quay.io/app/web@*"], pauseImage: "").pins(record))
    #expect(PinnedImages(patterns: [record.id.hex], pauseImage: "").pins(record))
    #expect(!PinnedImages(patterns: [], pauseImage: "").pins(record))
  }
}
