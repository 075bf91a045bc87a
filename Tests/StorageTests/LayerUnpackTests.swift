#if canImport(Glibc)
import Glibc
#endif
import OCI
import Storage
import Support
import TestFixtures
import Testing

@Suite("Unpacking layers")
struct LayerUnpackTests {
  @Test("every entry type keeps its owner, mode, xattrs and times")
  func everyEntryType() throws {
    let workspace = try Workspace()
    var tar = TarBuilder()
    tar.directory("./", mode: 0o755, mtime: 1_600_000_000)
    tar.directory("etc", mode: 0o750, uid: 11, gid: 12, mtime: 1_500_000_000, xattrs: [("user.dir", Array("d".utf8))])
    tar.file(
      "etc/tool", Array("#!/bin/sh\n".utf8), mode: 0o4755, uid: 1000, gid: 2000, mtime: 1_400_000_000,
      mtimeNanoseconds: 123_456_789, xattrs: [("user.note", Array("hello".utf8)), ("trusted.overlay.opaque", Array("y".utf8))]
    )
    tar.directory("shared", mode: 0o3777, uid: 0, gid: 50, mtime: 1_300_000_000)
    tar.symlink("etc/link", target: "../../../outside/anywhere", uid: 7, gid: 8, mtime: 1_200_000_000)
    tar.hardlink("etc/tool-again", target: "etc/tool")
    tar.characterDevice("dev/null", major: 1, minor: 3, mode: 0o666, uid: 0, gid: 5)
    tar.blockDevice("dev/loop9", major: 7, minor: 9, mode: 0o660, gid: 6)
    tar.fifo("run/pipe", mode: 0o620, uid: 3, gid: 4)
    let longName = String(repeating: "directory-name-", count: 9) + "/file-with-a-long-name-" + String(repeating: "x", count: 60)
    tar.file(longName, "long")
    tar.file("/absolute/file", "stripped")
    let layer = try workspace.unpack(tar)
    let diff = workspace.layers.diffPath(chainID: layer.chainID)

    #expect(layer.diffID == tar.diffID)
    #expect(layer.tarSize == UInt64(tar.bytes.count))
    #expect(layer.size == UInt64(10 + 4 + 8))
    #expect(workspace.layers.contains(chainID: layer.chainID))
    #expect(try workspace.layers.layer(chainID: layer.chainID) == layer)

    let root = try #require(status(diff))
    #expect(root.st_mode & 0o7777 == 0o755)
    #expect(root.st_mtim.tv_sec == 1_600_000_000)

    let etc = try #require(status(diff + "/etc"))
    #expect(etc.st_mode & S_IFMT == S_IFDIR)
    #expect(etc.st_mode & 0o7777 == 0o750)
    #expect((etc.st_uid, etc.st_gid) == (11, 12))
    // Set after the files inside were made.
    #expect(etc.st_mtim.tv_sec == 1_500_000_000)
    #expect(xattr(diff + "/etc", "user.dir") == Array("d".utf8))

    let tool = try #require(status(diff + "/etc/tool"))
    #expect(tool.st_mode & S_IFMT == S_IFREG)
    #expect(tool.st_mode & 0o7777 == 0o4755)
    #expect((tool.st_uid, tool.st_gid) == (1000, 2000))
    #expect(tool.st_mtim.tv_sec == 1_400_000_000)
    #expect(tool.st_mtim.tv_nsec == 123_456_789)
    #expect(tool.st_nlink == 2)
    #expect(contents(diff + "/etc/tool") == "#!/bin/sh\n")
    #expect(xattr(diff + "/etc/tool", "user.note") == Array("hello".utf8))
    // overlayfs's own xattrs never come from an archive.
    #expect(xattr(diff + "/etc/tool", "trusted.overlay.opaque") == nil)

    let again = try #require(status(diff + "/etc/tool-again"))
    #expect(again.st_ino == tool.st_ino)

    let shared = try #require(status(diff + "/shared"))
    #expect(shared.st_mode & 0o7777 == 0o3777)
    #expect(shared.st_gid == 50)
    #expect(shared.st_mtim.tv_sec == 1_300_000_000)

    let link = try #require(status(diff + "/etc/link"))
    #expect(link.st_mode & S_IFMT == S_IFLNK)
    #expect(readLink(diff + "/etc/link") == "../../../outside/anywhere")
    #expect((link.st_uid, link.st_gid) == (7, 8))
    #expect(link.st_mtim.tv_sec == 1_200_000_000)

    let null = try #require(status(diff + "/dev/null"))
    #expect(null.st_mode & S_IFMT == S_IFCHR)
    #expect(null.st_mode & 0o7777 == 0o666)
    #expect(deviceNumbers(null.st_rdev) == (1, 3))
    #expect(null.st_gid == 5)

    let loop = try #require(status(diff + "/dev/loop9"))
    #expect(loop.st_mode & S_IFMT == S_IFBLK)
    #expect(loop.st_mode & 0o7777 == 0o660)
    #expect(deviceNumbers(loop.st_rdev) == (7, 9))

    let pipe = try #require(status(diff + "/run/pipe"))
    #expect(pipe.st_mode & S_IFMT == S_IFIFO)
    #expect(pipe.st_mode & 0o7777 == 0o620)
    #expect((pipe.st_uid, pipe.st_gid) == (3, 4))

    // Implied parents are 0755 directories.
    let dev = try #require(status(diff + "/dev"))
    #expect(dev.st_mode & 0o7777 == 0o755)

    #expect(contents(diff + "/" + longName) == "long")
    #expect(contents(diff + "/absolute/file") == "stripped")
    #expect(workspace.leftovers == ["layers/\(layer.chainID.hex)"])
  }

  @Test("gzip, zstd and plain tar unpack alike", arguments: [LayerCompression.none, .gzip, .zstd])
  func compressions(_ compression: LayerCompression) throws {
    let workspace = try Workspace()
    var tar = TarBuilder()
    tar.directory("data")
    // Large enough to cross many read buffers and compression blocks.
    var big = [UInt8](repeating: 0, count: 3 << 20)
    var seed: UInt32 = 12345
    for index in big.indices {
      seed = seed &* 1_103_515_245 &+ 12345
      big[index] = UInt8(truncatingIfNeeded: seed >> (index % 3 == 0 ? 16 : 24))
    }
    tar.file("data/big", big)
    tar.file("data/small", "small")
    let layer = try workspace.unpack(tar, compression: compression)
    let diff = workspace.layers.diffPath(chainID: layer.chainID)
    #expect(layer.diffID == tar.diffID)
    #expect(layer.tarSize == UInt64(tar.bytes.count))
    #expect(try Files.readBytes(diff + "/data/big") == big)
    #expect(contents(diff + "/data/small") == "small")
  }

  @Test("whiteouts become 0/0 character devices and opaque markers an xattr")
  func whiteouts() throws {
    let workspace = try Workspace()
    var tar = TarBuilder()
    tar.file("present-then-hidden", "same layer")
    tar.whiteout("present-then-hidden")
    tar.whiteout("gone")
    tar.directory("dir")
    tar.file("dir/kept", "kept")
    tar.opaque("dir")
    tar.opaque("made-by-marker")
    tar.whiteout("nested", in: "a/b")
    tar.file(".wh..wh.plnk/123", "aufs bookkeeping")
    let layer = try workspace.unpack(tar)
    let diff = workspace.layers.diffPath(chainID: layer.chainID)

    for hidden in ["gone", "present-then-hidden", "a/b/nested"] {
      let node = try #require(status(diff + "/" + hidden), "\(hidden)")
      #expect(node.st_mode & S_IFMT == S_IFCHR, "\(hidden)")
      #expect(deviceNumbers(node.st_rdev) == (0, 0), "\(hidden)")
    }
    #expect(xattr(diff + "/dir", "trusted.overlay.opaque") == Array("y".utf8))
    #expect(xattr(diff + "/made-by-marker", "trusted.overlay.opaque") == Array("y".utf8))
    #expect(fileType(diff + "/made-by-marker") == S_IFDIR)
    #expect(contents(diff + "/dir/kept") == "kept")
    #expect(xattr(diff + "/a/b", "trusted.overlay.opaque") == nil)
    // No ".wh." name is ever written as itself.
    for directory in ["", "/dir", "/made-by-marker", "/a/b"] {
      let names = try Files.list(diff + directory)
      #expect(!names.contains { $0.hasPrefix(".wh.") }, "\(directory): \(names)")
    }
  }

  @Test("an entry replaces an earlier one of another type, and never writes through a symlink")
  func replacements() throws {
    let workspace = try Workspace()
    let outside = workspace.path + "/outside"
    try Files.makeDirectories(outside, mode: 0o755)
    try Files.write(outside + "/target", "untouched")
    var tar = TarBuilder()
    tar.directory("was-dir")
    tar.file("was-dir/child", "child")
    tar.file("was-dir", "now a file")
    tar.file("was-file", "file")
    tar.directory("was-file", mode: 0o700)
    tar.symlink("was-link", target: outside + "/target")
    tar.file("was-link", "replaced the link")
    tar.symlink("dir-link", target: outside)
    tar.directory("dir-link", mode: 0o711)
    tar.directory("kept", mode: 0o700)
    tar.file("kept/inside", "inside")
    tar.directory("kept", mode: 0o755)
    let layer = try workspace.unpack(tar)
    let diff = workspace.layers.diffPath(chainID: layer.chainID)

    #expect(contents(diff + "/was-dir") == "now a file")
    #expect(fileType(diff + "/was-file") == S_IFDIR)
    #expect(fileType(diff + "/was-link") == S_IFREG)
    #expect(contents(diff + "/was-link") == "replaced the link")
    #expect(fileType(diff + "/dir-link") == S_IFDIR)
    #expect(contents(outside + "/target") == "untouched")
    #expect(try Files.list(outside) == ["target"])
    // A directory listed twice keeps its contents and takes the later mode.
    #expect(contents(diff + "/kept/inside") == "inside")
    #expect(status(diff + "/kept").map { $0.st_mode & 0o7777 } == 0o755)
  }

  @Test("a chain already unpacked is not unpacked again")
  func sameChainOnce() throws {
    let workspace = try Workspace()
    var tar = TarBuilder()
    tar.file("a", "a")
    let first = try workspace.unpack(tar)
    let marker = workspace.layers.diffPath(chainID: first.chainID) + "/marker"
    try Files.write(marker, "from the first unpack")
    // A blob that does not exist: reading it would fail.
    let second = try workspace.layers.unpack(
      blob: workspace.path + "/no-such-blob", compression: .gzip, expectedDiffID: tar.diffID, chainID: first.chainID
    )
    #expect(second == first)
    #expect(contents(marker) == "from the first unpack")
    #expect(workspace.layers.list() == [first.chainID])
  }

  @Test("concurrent unpacks of one chain agree and keep one copy")
  func concurrentUnpacks() async throws {
    let workspace = try Workspace()
    var tar = TarBuilder()
    for index in 0..<200 {
      tar.file("files/\(index)", "file \(index)")
    }
    let blob = try workspace.file(try tar.gzip())
    let layers = workspace.layers
    let diffID = tar.diffID
    let results = try await withThrowingTaskGroup(of: UnpackedLayer.self) { group in
      for _ in 0..<4 {
        group.addTask { try layers.unpack(blob: blob, compression: .gzip, expectedDiffID: diffID, chainID: diffID) }
      }
      return try await group.reduce(into: []) { $0.append($1) }
    }
    #expect(results.count == 4)
    #expect(Set(results.map(\.diffID)) == [diffID])
    #expect(workspace.leftovers == ["layers/\(diffID.hex)"])
    #expect(try Files.list(layers.diffPath(chainID: diffID) + "/files").count == 200)
  }

  @Test("an empty layer unpacks to an empty directory")
  func emptyLayer() throws {
    let workspace = try Workspace()
    let layer = try workspace.unpack(TarBuilder(), compression: .gzip)
    #expect(layer.size == 0)
    #expect(layer.tarSize == 1024)
    #expect(try Files.list(workspace.layers.diffPath(chainID: layer.chainID)).isEmpty)
  }

  @Test("names keep their exact bytes, UTF-8 or not, in ustar and pax headers")
  func nameBytes() throws {
    let workspace = try Workspace()
    var tar = TarBuilder()
    let latin1: [UInt8] = Array("caf".utf8) + [0xE9]
    var entry = TarBuilder.Entry(path: latin1, type: .file)
    entry.contents = Array("latin-1".utf8)
    tar.add(entry)
    tar.file("héllo-wörld", "utf-8")
    let long = String(repeating: "ü", count: 60)
    tar.file(long, "utf-8 in pax")
    let layer = try workspace.unpack(tar)
    let diff = workspace.layers.diffPath(chainID: layer.chainID)
    let latin1Path = Array((diff + "/").utf8) + latin1 + [0]
    var info = stat()
    #expect(latin1Path.withUnsafeBufferPointer { $0.withMemoryRebound(to: CChar.self) { lstat($0.baseAddress!, &info) } } == 0)
    #expect(contents(diff + "/héllo-wörld") == "utf-8")
    #expect(contents(diff + "/" + long) == "utf-8 in pax")
  }

  @Test("one diff under two parents is two chains")
  func chains() throws {
    let workspace = try Workspace()
    var base = TarBuilder()
    base.file("base", "base")
    var top = TarBuilder()
    top.file("top", "top")
    let chain = chainIDs(of: [base.diffID, top.diffID])
    let baseBlob = try workspace.file(base.bytes)
    let topBlob = try workspace.file(try top.gzip())
    let lower = try workspace.layers.unpack(blob: baseBlob, compression: .none, expectedDiffID: base.diffID, chainID: chain[0])
    let upper = try workspace.layers.unpack(blob: topBlob, compression: .gzip, expectedDiffID: top.diffID, chainID: chain[1])
    #expect(lower.chainID == base.diffID)
    #expect(upper.chainID == chain[1])
    #expect(upper.diffID == top.diffID)
    #expect(Set(workspace.layers.list()) == Set(chain))
    #expect(contents(workspace.layers.diffPath(chainID: chain[1]) + "/top") == "top")
  }

  @Test("remove deletes a layer, deep trees included, and usage counts what is there")
  func removeAndUsage() throws {
    let workspace = try Workspace()
    #expect(workspace.layers.usage().inodes == 1)
    var tar = TarBuilder()
    // Deeper than PATH_MAX allows as one string: removal must walk by descriptors.
    let deep = Array(repeating: "level-of-a-deep-tree", count: 300).joined(separator: "/")
    tar.file(deep + "/bottom", "bottom")
    tar.file("sized", [UInt8](repeating: 1, count: 10_000))
    tar.hardlink("sized-link", target: "sized")
    tar.directory("locked", mode: 0o000)
    tar.file("locked/inside", "x", mode: 0o000)
    let layer = try workspace.unpack(tar)
    #expect(contents(workspace.layers.diffPath(chainID: layer.chainID) + "/sized") != nil)

    let usage = workspace.layers.usage()
    // layers/, the chain dir, layer.json, diff/, 300 levels, bottom, sized (once), locked, inside.
    #expect(usage.inodes == 1 + 1 + 1 + 1 + 300 + 1 + 1 + 1 + 1)
    #expect(usage.bytes >= 10_000 + 6 + 1)

    try workspace.layers.remove(chainID: layer.chainID)
    #expect(!workspace.layers.contains(chainID: layer.chainID))
    #expect(workspace.leftovers.isEmpty)
    // Removing what is not there is fine.
    try workspace.layers.remove(chainID: layer.chainID)
  }
}
