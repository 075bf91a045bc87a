#if canImport(Glibc)
import Glibc
#endif
import OCI
import Storage
import Support
import TestFixtures
import Testing

/// Hostile and broken layers: each must fail as the right error and leave
/// nothing behind, neither outside the store nor in root/layers or root/tmp.
@Suite("Unpacking hostile and broken layers")
struct LayerSafetyTests {
  /// Enough ".." to climb from any staging directory to "/".
  static let climb = Array(repeating: "..", count: 40).joined(separator: "/")

  /// A hostile layer: the tar made from the workspace's paths, and where a
  /// successful escape would have written.
  struct Escape: Sendable, CustomTestStringConvertible {
    var name: String
    var build: @Sendable (_ workspace: String) -> (tar: TarBuilder, sentinel: String)
    var testDescription: String { name }
  }

  static let escapes: [Escape] = [
    Escape(name: "../x") { workspace in
      var tar = TarBuilder()
      tar.file("\(climb)\(workspace)/escaped", "evil")
      return (tar, workspace + "/escaped")
    },
    Escape(name: "a/../../x") { workspace in
      var tar = TarBuilder()
      tar.directory("a")
      tar.file("a/../../\(climb)\(workspace)/escaped", "evil")
      return (tar, workspace + "/escaped")
    },
    Escape(name: "single ../x") { workspace in
      var tar = TarBuilder()
      tar.file("../x", "evil")
      // ../x from diff/ would be the staging directory's "x".
      return (tar, workspace + "/store/tmp/x")
    },
    Escape(name: "symlink to an absolute directory, then a file through it") { workspace in
      var tar = TarBuilder()
      tar.symlink("link", target: workspace + "/outside")
      tar.file("link/evil", "evil")
      return (tar, workspace + "/outside/evil")
    },
    Escape(name: "relative symlink climbing out, then a file through it") { workspace in
      var tar = TarBuilder()
      tar.symlink("link", target: climb)
      tar.file("link\(workspace)/escaped", "evil")
      return (tar, workspace + "/escaped")
    },
    Escape(name: "symlink ../../.. then link/x") { workspace in
      var tar = TarBuilder()
      tar.symlink("link", target: "../../..")
      tar.file("link/x", "evil")
      // diff/../../.. is the store root.
      return (tar, workspace + "/store/x")
    },
    Escape(name: "directory replaced by a symlink, then a file through it") { workspace in
      var tar = TarBuilder()
      tar.directory("dir")
      tar.file("dir/first", "fine")
      tar.symlink("dir", target: workspace + "/outside")
      tar.file("dir/evil", "evil")
      return (tar, workspace + "/outside/evil")
    },
    Escape(name: "directory entry through a symlink") { workspace in
      var tar = TarBuilder()
      tar.symlink("link", target: workspace + "/outside")
      tar.directory("link/made")
      return (tar, workspace + "/outside/made")
    },
    Escape(name: "whiteout through a symlink") { workspace in
      var tar = TarBuilder()
      tar.symlink("link", target: workspace + "/outside")
      tar.whiteout("victim", in: "link")
      return (tar, workspace + "/outside/victim-was-removed")
    },
    Escape(name: "hard link to ../../etc/passwd") { workspace in
      var tar = TarBuilder()
      tar.hardlink("passwd", target: "../../etc/passwd")
      return (tar, workspace + "/store/tmp/passwd")
    },
    Escape(name: "hard link to an absolute path") { workspace in
      var tar = TarBuilder()
      tar.hardlink("passwd", target: workspace + "/outside/victim")
      return (tar, workspace + "/store/tmp/passwd")
    },
    Escape(name: "hard link through a symlinked directory") { workspace in
      var tar = TarBuilder()
      tar.symlink("link", target: workspace + "/outside")
      tar.hardlink("stolen", target: "link/victim")
      return (tar, workspace + "/store/tmp/stolen")
    },
    Escape(name: "whiteout of \"..\"") { workspace in
      var tar = TarBuilder()
      tar.file("inner/file", "x")
      tar.whiteout("..", in: "inner")
      return (tar, workspace + "/store/tmp/never")
    },
  ]

  @Test("escapes fail as unsafePath and leave nothing", arguments: escapes)
  func escape(_ escape: Escape) throws {
    let workspace = try Workspace()
    try Files.makeDirectories(workspace.path + "/outside", mode: 0o755)
    try Files.write(workspace.path + "/outside/victim", "victim")
    let victimLinks = status(workspace.path + "/outside/victim")?.st_nlink
    let (tar, sentinel) = escape.build(workspace.path)
    for compression in [LayerCompression.none, .gzip] {
      let error = workspace.failure { try workspace.unpack(tar, compression: compression) }
      guard case .unsafePath = error else {
        Issue.record("\(escape.name) (\(compression)): expected unsafePath, got \(String(describing: error))")
        continue
      }
      #expect(!exists(sentinel), "\(escape.name): \(sentinel) was written")
      #expect(workspace.leftovers.isEmpty, "\(escape.name): left \(workspace.leftovers)")
      #expect(try Files.list(workspace.path + "/outside") == ["victim"])
      #expect(contents(workspace.path + "/outside/victim") == "victim")
      #expect(status(workspace.path + "/outside/victim")?.st_nlink == victimLinks)
    }
  }

  @Test("a hard link to the host's /etc/passwd makes no link")
  func passwdUntouched() throws {
    let workspace = try Workspace()
    let before = try #require(status("/etc/passwd"))
    for target in ["../../etc/passwd", "/etc/passwd", "\(Self.climb)/etc/passwd"] {
      var tar = TarBuilder()
      tar.hardlink("passwd", target: target)
      let error = workspace.failure { try workspace.unpack(tar) }
      guard case .unsafePath = error else {
        Issue.record("\(target): expected unsafePath, got \(String(describing: error))")
        continue
      }
    }
    #expect(status("/etc/passwd")?.st_nlink == before.st_nlink)
    #expect(workspace.leftovers.isEmpty)
  }

  @Test("a corrupt archive fails as archive")
  func corrupt() throws {
    let workspace = try Workspace()
    let garbage = try workspace.file(Array("this is not a tar archive at all, just some text\n".utf8) + [UInt8](repeating: 7, count: 2000))
    let error = workspace.failure {
      _ = try workspace.layers.unpack(blob: garbage, compression: .none, expectedDiffID: .sha256(of: [1]), chainID: .sha256(of: [1]))
    }
    guard case .archive = error else {
      Issue.record("expected archive, got \(String(describing: error))")
      return
    }
    #expect(workspace.leftovers.isEmpty)
  }

  @Test("a header with a bad checksum fails as archive")
  func badChecksum() throws {
    let workspace = try Workspace()
    var tar = TarBuilder()
    tar.file("first", "fine")
    tar.file("second", "damaged")
    var bytes = tar.bytes
    // The second header's name field: the checksum no longer matches.
    bytes[1024] ^= 0x20
    let blob = try workspace.file(bytes)
    let error = workspace.failure {
      _ = try workspace.layers.unpack(blob: blob, compression: .none, expectedDiffID: .sha256(of: bytes), chainID: .sha256(of: bytes))
    }
    guard case .archive = error else {
      Issue.record("expected archive, got \(String(describing: error))")
      return
    }
    #expect(workspace.leftovers.isEmpty)
  }

  @Test("a truncated compressed layer fails as archive", arguments: [LayerCompression.gzip, .zstd])
  func truncated(_ compression: LayerCompression) throws {
    let workspace = try Workspace()
    var tar = TarBuilder()
    var noise = [UInt8](repeating: 0, count: 200_000)
    for index in noise.indices { noise[index] = UInt8(truncatingIfNeeded: index &* 2_654_435_761 >> 13) }
    tar.file("noise", noise)
    tar.file("after", "after")
    let compressed = compression == .gzip ? try tar.gzip() : try tar.zstd()
    for keep in [compressed.count / 2, compressed.count - 4] {
      let blob = try workspace.file(Array(compressed.prefix(keep)))
      let error = workspace.failure {
        _ = try workspace.layers.unpack(blob: blob, compression: compression, expectedDiffID: tar.diffID, chainID: tar.diffID)
      }
      guard case .archive = error else {
        Issue.record("kept \(keep) of \(compressed.count): expected archive, got \(String(describing: error))")
        continue
      }
      #expect(workspace.leftovers.isEmpty)
    }
  }

  @Test("a diffID mismatch keeps nothing")
  func diffIDMismatch() throws {
    let workspace = try Workspace()
    var tar = TarBuilder()
    tar.file("file", "contents")
    let claimed = Digest.sha256(of: Array("something else".utf8))
    let error = workspace.failure { try workspace.unpack(tar, compression: .gzip, expecting: claimed) }
    #expect(error == .diffIDMismatch(expected: claimed, actual: tar.diffID))
    #expect(workspace.leftovers.isEmpty)
    #expect(!workspace.layers.contains(chainID: tar.diffID))
  }

  @Test("padding after the end-of-archive blocks counts in the diffID")
  func trailingPadding() throws {
    let workspace = try Workspace()
    var tar = TarBuilder()
    tar.file("file", "contents")
    // GNU tar pads to 10 KiB records; the diffID is of all of it.
    let padded = tar.bytes + [UInt8](repeating: 0, count: 10240 - tar.bytes.count % 10240)
    let blob = try workspace.file(padded)
    let wanted = Digest.sha256(of: padded)
    let layer = try workspace.layers.unpack(blob: blob, compression: .none, expectedDiffID: wanted, chainID: wanted)
    #expect(layer.tarSize == UInt64(padded.count))
    #expect(contents(workspace.layers.diffPath(chainID: wanted) + "/file") == "contents")
  }
}
