#if canImport(Glibc)
import Glibc
#endif
import OCI
import Storage
import Support
import Testing

@Suite("Blob store")
struct BlobStoreTests {
  @Test("write verifies the digest; read, contains, list and remove")
  func smallBlobs() throws {
    let workspace = try Workspace()
    let blobs = workspace.blobs
    let bytes = Array("{\"config\":true}".utf8)
    let digest = Digest.sha256(of: bytes)
    #expect(!blobs.contains(digest))
    try blobs.write(bytes, as: digest)
    #expect(blobs.contains(digest))
    #expect(blobs.path(of: digest) == workspace.root + "/blobs/sha256/" + digest.hex)
    #expect(try blobs.read(digest) == bytes)
    #expect(blobs.list() == [digest])
    // Writing again is fine.
    try blobs.write(bytes, as: digest)

    let wrong = Digest.sha256(of: [1, 2, 3])
    #expect(throws: StorageError.digestMismatch(expected: wrong, actual: digest)) { try blobs.write(bytes, as: wrong) }
    #expect(!blobs.contains(wrong))

    blobs.remove(digest)
    #expect(!blobs.contains(digest))
    #expect(throws: StorageError.notFound("blob \(digest)")) { try blobs.read(digest) }
    #expect(try Files.list(workspace.root + "/tmp").isEmpty)
  }

  @Test("sha512 blobs are verified with sha512")
  func sha512() throws {
    let workspace = try Workspace()
    let bytes = Array("abc".utf8)
    let digest = try Digest(parsing: "sha512:ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f")
    try workspace.blobs.write(bytes, as: digest)
    #expect(try workspace.blobs.read(digest) == bytes)
    #expect(workspace.blobs.path(of: digest).hasSuffix("/blobs/sha512/" + digest.hex))
  }

  @Test("commit moves a finished download into place; an existing blob wins")
  func commit() throws {
    let workspace = try Workspace()
    let blobs = workspace.blobs
    let first = blobs.temporaryPath()
    let second = blobs.temporaryPath()
    #expect(first != second)
    #expect(first.hasPrefix(workspace.root + "/tmp/"))
    let bytes = [UInt8](repeating: 42, count: 100_000)
    let digest = Digest.sha256(of: bytes)
    try Files.write(first, String(decoding: bytes, as: UTF8.self))
    #expect(try blobs.digest(ofFile: first, like: digest) == digest)
    try blobs.commit(temporary: first, as: digest)
    #expect(!exists(first))
    #expect(try blobs.read(digest) == bytes)
    let committed = try #require(status(blobs.path(of: digest)))

    // A second download of the same blob: the first copy stays.
    try Files.write(second, String(decoding: bytes, as: UTF8.self))
    try blobs.commit(temporary: second, as: digest)
    #expect(!exists(second))
    #expect(status(blobs.path(of: digest))?.st_ino == committed.st_ino)
    #expect(try Files.list(workspace.root + "/tmp").isEmpty)

    #expect(throws: StorageError.notFound(workspace.root + "/tmp/missing")) {
      try blobs.commit(temporary: workspace.root + "/tmp/missing", as: digest)
    }
  }

  @Test("cleanUpIncomplete empties tmp and nothing else")
  func cleanUp() throws {
    let workspace = try Workspace()
    let blobs = workspace.blobs
    let kept = Array("kept".utf8)
    try blobs.write(kept, as: .sha256(of: kept))
    try Files.write(blobs.temporaryPath(), "partial download")
    // A staging tree as a crash would leave it: locked directories, a device.
    let staging = workspace.root + "/tmp/layer-crashed/diff/locked"
    try Files.makeDirectories(staging, mode: 0o755)
    try Files.write(staging + "/file", "x")
    #expect(mknod(staging + "/null", S_IFCHR | 0o600, 0) == 0)
    #expect(chmod(staging, 0) == 0)
    #expect(symlink("/etc", workspace.root + "/tmp/link-out") == 0)

    blobs.cleanUpIncomplete()
    #expect(try Files.list(workspace.root + "/tmp").isEmpty)
    #expect(blobs.contains(.sha256(of: kept)))
    #expect(exists("/etc/passwd"))
  }
}
