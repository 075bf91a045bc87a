#if canImport(Glibc)
import Glibc
#endif
import OCI
import Storage
import Support
import TestFixtures
import Testing

@Suite("Unpacked layers under a real overlay mount")
struct OverlayMountTests {
  @Test("a whiteout deletes a lower file and an opaque directory hides the lower contents")
  func overlay() throws {
    let workspace = try Workspace()
    var lower = TarBuilder()
    lower.file("gone", "deleted by the upper layer")
    lower.file("kept", "still here")
    lower.directory("dir")
    lower.file("dir/old", "hidden by the opaque marker")
    lower.directory("other")
    lower.file("other/lower", "merged")
    var upper = TarBuilder()
    upper.whiteout("gone")
    upper.directory("dir")
    upper.opaque("dir")
    upper.file("dir/new", "from the upper layer")
    upper.file("other/upper", "merged")

    let chain = chainIDs(of: [lower.diffID, upper.diffID])
    _ = try workspace.layers.unpack(blob: try workspace.file(try lower.gzip()), compression: .gzip, expectedDiffID: lower.diffID, chainID: chain[0])
    _ = try workspace.layers.unpack(blob: try workspace.file(try upper.zstd()), compression: .zstd, expectedDiffID: upper.diffID, chainID: chain[1])

    let merged = workspace.path + "/merged"
    try Files.makeDirectories(merged, mode: 0o755)
    // Read-only overlay: lowerdirs only, the leftmost on top.
    let options = "lowerdir=\(workspace.layers.diffPath(chainID: chain[1])):\(workspace.layers.diffPath(chainID: chain[0]))"
    guard mount("overlay", merged, "overlay", UInt(MS_RDONLY), options) == 0 else {
      throw SystemError("mount overlay", path: merged)
    }
    defer { umount2(merged, Int32(MNT_DETACH)) }

    #expect(!exists(merged + "/gone"))
    #expect(contents(merged + "/kept") == "still here")
    #expect(try Files.list(merged + "/dir") == ["new"])
    #expect(contents(merged + "/dir/new") == "from the upper layer")
    #expect(try Set(Files.list(merged + "/other")) == ["lower", "upper"])
    #expect(try Set(Files.list(merged)) == ["kept", "dir", "other"])
  }
}
