import Support
import Testing

@testable import Server

/// CRI-O's version comparison: major.minor decide, patch and build do not;
/// a file that cannot be read or parsed asks for a wipe.
@Suite struct VersionFileTests {
  @Test func majorAndMinorDecide() throws {
    let dir = try Files.makeTemporaryDirectory(prefix: "crio-version")
    defer { Files.removeTree(dir) }
    let path = dir + "/state/version"
    #expect(VersionFile.wipeReason("", current: "1.2.3") == nil, "an unset file never asks")
    #expect(VersionFile.wipeReason(path, current: "1.2.3") != nil, "missing: the node rebooted")
    try VersionFile.write(path, version: "1.2.3")
    #expect(try Files.read(path) == "\"1.2.3\"")
    #expect(VersionFile.wipeReason(path, current: "1.2.9+abc") == nil)
    #expect(VersionFile.wipeReason(path, current: "1.3.0")?.contains("version 1.2 was running, this is 1.3") == true)
    #expect(VersionFile.wipeReason(path, current: "2.2.3") != nil)
    try Files.write(path, "not a version")
    #expect(VersionFile.wipeReason(path, current: "1.2.3")?.contains("malformed") == true)
    // CRI-O's own files carry the git commit as build metadata.
    try Files.write(path, "\"1.26.4+0b6f4b8c4f3ea2d4e1d3b7ae2f6a5d1c9a3f7e21\"")
    #expect(VersionFile.wipeReason(path, current: "1.26.0") == nil)
  }
}
