#if canImport(Glibc)
import Glibc
#endif
import Support
import Testing

/// `Files.makeDirectories`, which every store and bundle directory goes
/// through: `mkdir -p` made from the deepest level up.
@Suite struct MakeDirectoriesTests {
  static func withScratch(_ body: (String) throws -> Void) throws {
    let scratch = try Files.makeTemporaryDirectory(prefix: "mkdirs-test-")
    defer { Files.removeTree(scratch) }
    try body(scratch)
  }

  static func mode(_ path: String) -> mode_t {
    var info = stat()
    return stat(path, &info) == 0 ? info.st_mode & 0o7777 : 0
  }

  @Test func makesEveryMissingLevelWithTheMode() throws {
    try Self.withScratch { scratch in
      let previous = umask(0)
      defer { umask(previous) }
      try Files.makeDirectories(scratch + "/a/b/c/", mode: 0o750)
      for level in ["/a", "/a/b", "/a/b/c"] {
        #expect(Files.kind(of: scratch + level) == .directory)
        #expect(Self.mode(scratch + level) == 0o750, "\(level)")
      }
    }
  }

  @Test func existingDirectoriesAndLinksToThemAreFine() throws {
    try Self.withScratch { scratch in
      try Files.makeDirectories(scratch + "/a/b", mode: 0o755)
      try Files.makeDirectories(scratch + "/a/b", mode: 0o700)
      #expect(symlink(scratch + "/a", scratch + "/link") == 0)
      try Files.makeDirectories(scratch + "/link/b/c", mode: 0o755)
      #expect(Files.kind(of: scratch + "/a/b/c") == .directory)
      try Files.makeDirectories("/", mode: 0o755)
    }
  }

  @Test func aFileInTheWayIsAnError() throws {
    try Self.withScratch { scratch in
      try Files.write(scratch + "/file", "x")
      #expect(throws: SystemError.self) { try Files.makeDirectories(scratch + "/file", mode: 0o755) }
      #expect(throws: SystemError.self) { try Files.makeDirectories(scratch + "/file/below", mode: 0o755) }
      #expect(Files.kind(of: scratch + "/file") == .file)
    }
  }
}
