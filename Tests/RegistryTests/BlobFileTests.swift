#if canImport(Glibc)
import Glibc
#endif
@testable import Registry
import Support
import Testing

/// Downloads may be staged in a shared directory (big_files_temporary_dir):
/// a name planted there beforehand is refused, never written through.
@Suite struct BlobFileTests {
  @Test func aPlantedLinkOrFileIsNotWrittenThrough() throws {
    let directory = try Files.makeTemporaryDirectory(prefix: "blobfile-")
    defer { Files.removeTree(directory) }
    let target = directory + "/root-owned"
    try Files.write(target, "keep")
    #expect(symlink(target, directory + "/planted-link") == 0)
    #expect(throws: RegistryError.self) { _ = try BlobFile(creating: directory + "/planted-link") }
    #expect(throws: RegistryError.self) { _ = try BlobFile(creating: target) }
    #expect(try Files.read(target) == "keep")

    let fresh = try BlobFile(creating: directory + "/download")
    try fresh.finish()
    var info = stat()
    #expect(lstat(directory + "/download", &info) == 0 && info.st_mode & 0o777 == 0o600)
  }
}
