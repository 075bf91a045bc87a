import FoundationEssentials
import OCI
import Storage
import Support
import Testing

@Suite("Image records")
struct ImageStoreTests {
  /// A digest whose hex starts with `prefix`, the rest from `seed`.
  static func digest(_ prefix: String, _ seed: String) -> Digest {
    let hex = prefix + Digest.sha256(of: Array(seed.utf8)).hex.dropFirst(prefix.count)
    return try! Digest(parsing: "sha256:" + hex)
  }

  static func image(_ id: Digest, tags: [String] = [], digests: [String] = [], layers: [Digest] = [], pulledAt: Double = 1) -> ImageRecord {
    ImageRecord(
      id: id, repoTags: tags, repoDigests: digests, size: 1234, manifestDigest: digest("", "manifest-\(id.hex)"),
      config: Array("{\"id\":\"\(id.hex)\"}".utf8), layers: layers,
      pulledAt: Date(timeIntervalSinceReferenceDate: pulledAt)
    )
  }

  @Test("find by ID, sha256:ID, ID prefix, tag and repo digest")
  func find() throws {
    let workspace = try Workspace()
    let store = try ImageStore(path: workspace.root + "/images.db")
    let id = Self.digest("abcdef", "busybox")
    let layer = Self.digest("", "layer")
    let record = Self.image(
      id, tags: ["docker.io/library/busybox:latest"], digests: ["docker.io/library/busybox@sha256:" + Self.digest("", "m").hex],
      layers: [layer]
    )
    #expect(try store.save(record) == record)
    #expect(try store.image(id: id) == record)
    for text in [id.hex, id.description, "abc", String(id.hex.prefix(9)), "sha256:abcd", "docker.io/library/busybox:latest", record.repoDigests[0]] {
      #expect(try store.find(text) == record, "\(text)")
    }
    // Too short, not hex, upper case, not a prefix, unknown names.
    for text in ["ab", "abz", "ABCDEF", "abd", "busybox", "docker.io/library/busybox:other", ""] {
      #expect(try store.find(text) == nil, "\(text)")
    }
    #expect(try store.list() == [record])
  }

  @Test("an ambiguous ID prefix finds nothing; a longer one finds the image")
  func ambiguousPrefix() throws {
    let workspace = try Workspace()
    let store = try ImageStore(path: workspace.root + "/images.db")
    let one = Self.image(Self.digest("abc1", "one"))
    let two = Self.image(Self.digest("abc2", "two"))
    try store.save(one)
    try store.save(two)
    #expect(try store.find("abc") == nil)
    #expect(try store.find("abc1") == one)
    #expect(try store.find("sha256:abc2") == two)
  }

  @Test("saving a tag for a new image moves it; the old image keeps its digests")
  func movedTag() throws {
    let workspace = try Workspace()
    let store = try ImageStore(path: workspace.root + "/images.db")
    let oldID = Self.digest("", "old")
    let newID = Self.digest("", "new")
    try store.save(Self.image(oldID, tags: ["r/app:latest", "r/app:1"], digests: ["r/app@sha256:" + oldID.hex], pulledAt: 1))
    try store.save(Self.image(newID, tags: ["r/app:latest"], digests: ["r/app@sha256:" + newID.hex], pulledAt: 2))
    #expect(try store.find("r/app:latest")?.id == newID)
    #expect(try store.image(id: oldID)?.repoTags == ["r/app:1"])

    // Moving its last tag leaves the old image dangling: listed, digests kept.
    try store.save(Self.image(newID, tags: ["r/app:1"], pulledAt: 3))
    let dangling = try #require(try store.image(id: oldID))
    #expect(dangling.repoTags.isEmpty)
    #expect(dangling.repoDigests == ["r/app@sha256:" + oldID.hex])
    #expect(try store.list().map(\.id) == [oldID, newID])
    // Saving merges names: the new image has both tags, in the order added.
    let current = try #require(try store.image(id: newID))
    #expect(current.repoTags == ["r/app:latest", "r/app:1"])
    #expect(current.repoDigests == ["r/app@sha256:" + newID.hex])
    #expect(current.pulledAt == Date(timeIntervalSinceReferenceDate: 3))
  }

  @Test("removeName untags while other tags remain and deletes with the last")
  func removeName() throws {
    let workspace = try Workspace()
    let store = try ImageStore(path: workspace.root + "/images.db")
    let id = Self.digest("", "app")
    let repoDigest = "r/app@sha256:" + Self.digest("", "m").hex
    try store.save(Self.image(id, tags: ["r/app:1", "r/app:2"], digests: [repoDigest]))

    guard case .untagged(let untagged) = try store.removeName("r/app:1", from: id) else {
      Issue.record("expected untagged")
      return
    }
    #expect(untagged.repoTags == ["r/app:2"])
    #expect(try store.find("r/app:1") == nil)

    // A digest of a tagged image: only the digest goes.
    guard case .untagged(let withoutDigest) = try store.removeName(repoDigest, from: id) else {
      Issue.record("expected untagged")
      return
    }
    #expect(withoutDigest.repoDigests.isEmpty)
    #expect(withoutDigest.repoTags == ["r/app:2"])

    #expect(throws: StorageError.self) { try store.removeName("r/app:9", from: id) }

    guard case .deleted(let deleted) = try store.removeName("r/app:2", from: id) else {
      Issue.record("expected deleted")
      return
    }
    #expect(deleted.id == id)
    #expect(try store.image(id: id) == nil)
    #expect(try store.list().isEmpty)
  }

  @Test("the last tag deletes an image even with repo digests; a digest-only image goes with its last digest")
  func removeLastNames() throws {
    let workspace = try Workspace()
    let store = try ImageStore(path: workspace.root + "/images.db")
    let tagged = Self.digest("", "tagged")
    try store.save(Self.image(tagged, tags: ["r/a:1"], digests: ["r/a@sha256:" + tagged.hex]))
    #expect(try store.removeName("r/a:1", from: tagged) == .deleted(Self.image(tagged, tags: [], digests: ["r/a@sha256:" + tagged.hex])))

    let byDigest = Self.digest("", "by-digest")
    let first = "r/b@sha256:" + byDigest.hex
    let second = "mirror/b@sha256:" + byDigest.hex
    try store.save(Self.image(byDigest, digests: [first, second]))
    guard case .untagged = try store.removeName(first, from: byDigest) else {
      Issue.record("expected untagged while a digest remains")
      return
    }
    guard case .deleted = try store.removeName(second, from: byDigest) else {
      Issue.record("expected deleted")
      return
    }
    #expect(try store.list().isEmpty)
  }

  @Test("referenced and unreferenced layers follow the images")
  func layers() throws {
    let workspace = try Workspace()
    let store = try ImageStore(path: workspace.root + "/images.db")
    let diffs = (0..<3).map { Digest.sha256(of: [UInt8($0)]) }
    let chain = chainIDs(of: diffs)
    for (index, chainID) in chain.enumerated() {
      try store.saveLayer(
        LayerRecord(
          chainID: chainID, diffID: diffs[index], parent: index == 0 ? nil : chain[index - 1],
          blobDigest: .sha256(of: [UInt8(index), 9]), compressedSize: UInt64(100 + index), size: UInt64(1000 + index)
        )
      )
    }
    #expect(try store.layer(chainID: chain[1])?.parent == chain[0])
    #expect(try store.layer(chainID: chain[0])?.parent == nil)
    #expect(try store.layers().count == 3)

    let a = Self.digest("", "a")
    let b = Self.digest("", "b")
    try store.save(Self.image(a, tags: ["a:1"], layers: [chain[0], chain[1]]))
    try store.save(Self.image(b, tags: ["b:1"], layers: [chain[0]]))
    #expect(try store.referencedLayers() == [chain[0], chain[1]])
    #expect(try store.unreferencedLayers().map(\.chainID) == [chain[2]])
    #expect(try store.image(id: a)?.layers == [chain[0], chain[1]])

    try store.delete(id: a)
    #expect(try store.referencedLayers() == [chain[0]])
    #expect(Set(try store.unreferencedLayers().map(\.chainID)) == [chain[1], chain[2]])
    try store.deleteLayer(chainID: chain[2])
    #expect(try store.layer(chainID: chain[2]) == nil)
    // Deleting what is gone is fine.
    try store.delete(id: a)
  }

  @Test("records survive reopening, and other modules can add their own tables")
  func reopen() throws {
    let workspace = try Workspace()
    let path = workspace.root + "/images.db"
    var record = Self.image(Self.digest("", "kept"), tags: ["k:1"], digests: ["k@sha256:" + Self.digest("", "km").hex], layers: [Self.digest("", "l")])
    // Now, to the full precision of Date: it must come back exactly.
    record.pulledAt = Date()
    do {
      let store = try ImageStore(path: path)
      try store.save(record)
    }
    let reopened = try ImageStore(path: path) { migrations in
      migrations.register("pods-v1") { db in
        try db.execute("CREATE TABLE pods (id TEXT PRIMARY KEY NOT NULL)")
      }
    }
    #expect(try reopened.find("k:1") == record)
    #expect(try reopened.list() == [record])
    let tables = try reopened.database.read { db in
      try db.texts("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    }
    #expect(tables.contains("pods"))
    #expect(tables.contains("images"))
    let journal = try reopened.database.read { db in try db.texts("PRAGMA journal_mode") }
    #expect(journal == ["wal"])
  }
}
