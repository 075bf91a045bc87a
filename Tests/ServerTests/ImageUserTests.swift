import Support
import Testing

@testable import Server

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A temporary rootfs with an /etc, removed when the test ends.
final class TempRootfs {
  let path: String

  init() throws {
    path = try Files.makeTemporaryDirectory(prefix: "imageuser-")
    try Files.makeDirectories(path + "/etc", mode: 0o755)
  }

  deinit { Files.removeTree(path) }

  func write(_ relative: String, _ contents: String) throws {
    let full = path + "/" + relative
    if let slash = full.lastIndex(of: "/") {
      try Files.makeDirectories(String(full[..<slash]), mode: 0o755)
    }
    try Files.write(full, contents)
  }

  func link(_ relative: String, to target: String) {
    let full = path + "/" + relative
    unlink(full)
    #expect(symlink(target, full) == 0)
  }
}

let samplePasswd = """
  root:x:0:0:root:/root:/bin/sh
  # a comment
  daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
  app:x:1000:1001:App:/home/app:/bin/sh
  broken line
  nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin

  """

let sampleGroup = """
  root:x:0:
  wheel:x:10:root,app
  app:x:1001:
  video:x:44:app
  audio:x:29: app , daemon
  staff:x:50:

  """

@Suite struct ImageUserTests {
  func rootfs() throws -> TempRootfs {
    let rootfs = try TempRootfs()
    try rootfs.write("etc/passwd", samplePasswd)
    try rootfs.write("etc/group", sampleGroup)
    return rootfs
  }

  @Test func emptyUserIsRootWithRootsGroups() throws {
    let rootfs = try rootfs()
    let user = try ImageUser.resolve("", rootfs: rootfs.path)
    #expect(user.uid == 0)
    #expect(user.gid == 0)
    #expect(user.additionalGids == [10])
  }

  @Test func nameLooksUpPasswdAndSupplementaryGroups() throws {
    let rootfs = try rootfs()
    let user = try ImageUser.resolve("app", rootfs: rootfs.path)
    #expect(user.uid == 1000)
    #expect(user.gid == 1001)
    #expect(user.additionalGids == [10, 44, 29])
  }

  @Test func numberFoundInPasswdTakesItsGroup() throws {
    let rootfs = try rootfs()
    let user = try ImageUser.resolve("1000", rootfs: rootfs.path)
    #expect(user.uid == 1000)
    #expect(user.gid == 1001)
    #expect(user.additionalGids == [10, 44, 29])
  }

  @Test func numberMissingFromPasswdGetsGroupZero() throws {
    let rootfs = try rootfs()
    let user = try ImageUser.resolve("4242", rootfs: rootfs.path)
    #expect(user.uid == 4242)
    #expect(user.gid == 0)
    #expect(user.additionalGids.isEmpty)
  }

  @Test func userAndGroupForms() throws {
    let rootfs = try rootfs()
    let byNames = try ImageUser.resolve("app:staff", rootfs: rootfs.path)
    #expect(byNames.uid == 1000 && byNames.gid == 50)
    // An explicit group means no supplementary groups from /etc/group (runc).
    #expect(byNames.additionalGids.isEmpty)
    let byNumbers = try ImageUser.resolve("1000:7", rootfs: rootfs.path)
    #expect(byNumbers.uid == 1000 && byNumbers.gid == 7)
    let mixed = try ImageUser.resolve("555:video", rootfs: rootfs.path)
    #expect(mixed.uid == 555 && mixed.gid == 44)
    let nameNumber = try ImageUser.resolve("daemon:99", rootfs: rootfs.path)
    #expect(nameNumber.uid == 1 && nameNumber.gid == 99)
  }

  @Test func missingNamesAreErrors() throws {
    let rootfs = try rootfs()
    #expect(throws: CRIError.invalidArgument("user \"ghost\" not found in the image's /etc/passwd")) {
      try ImageUser.resolve("ghost", rootfs: rootfs.path)
    }
    #expect(throws: CRIError.invalidArgument("group \"ghosts\" not found in the image's /etc/group")) {
      try ImageUser.resolve("app:ghosts", rootfs: rootfs.path)
    }
  }

  @Test func idsOutsideThirtyTwoBitsAreRejected() throws {
    let rootfs = try rootfs()
    #expect(throws: CRIError.self) { try ImageUser.resolve("4294967296", rootfs: rootfs.path) }
    #expect(throws: CRIError.self) { try ImageUser.resolve("0:4294967296", rootfs: rootfs.path) }
    #expect(throws: CRIError.self) { try ImageUser.resolve("-1", rootfs: rootfs.path) }
    let largest = try ImageUser.resolve("4294967295:4294967295", rootfs: rootfs.path)
    #expect(largest.uid == UInt32.max && largest.gid == UInt32.max)
  }

  @Test func imageWithoutEtcFiles() throws {
    let rootfs = try TempRootfs()
    let root = try ImageUser.resolve("", rootfs: rootfs.path)
    #expect(root.uid == 0 && root.gid == 0 && root.additionalGids.isEmpty)
    let numeric = try ImageUser.resolve("123:456", rootfs: rootfs.path)
    #expect(numeric.uid == 123 && numeric.gid == 456)
    #expect(throws: CRIError.self) { try ImageUser.resolve("app", rootfs: rootfs.path) }
  }

  @Test func absoluteSymlinkOutOfTheRootfsIsNotFollowed() throws {
    let outside = try TempRootfs()
    try outside.write("etc/passwd", "evil:x:0:666:evil:/:/bin/sh\nroot:x:0:777::/:/bin/sh\n")
    let rootfs = try TempRootfs()
    rootfs.link("etc/passwd", to: outside.path + "/etc/passwd")
    // The target is looked up inside the rootfs, where it does not exist.
    #expect(throws: CRIError.self) { try ImageUser.resolve("evil", rootfs: rootfs.path) }
    let root = try ImageUser.resolve("", rootfs: rootfs.path)
    #expect(root.gid == 0)
  }

  @Test func dotDotSymlinkEscapesStopAtTheRootfs() throws {
    let outside = try TempRootfs()
    try outside.write("etc/passwd", "evil:x:5:5::/:/bin/sh\n")
    let rootfs = try TempRootfs()
    // ../../../../<outside>/etc/passwd from /etc resolves to <rootfs>/<outside>/etc/passwd.
    rootfs.link("etc/passwd", to: "../../../../../../.." + outside.path + "/etc/passwd")
    #expect(throws: CRIError.self) { try ImageUser.resolve("evil", rootfs: rootfs.path) }
    // A symlinked /etc directory is resolved inside the rootfs too.
    let other = try TempRootfs()
    Files.removeTree(other.path + "/etc")
    other.link("etc", to: outside.path + "/etc")
    #expect(throws: CRIError.self) { try ImageUser.resolve("evil", rootfs: other.path) }
  }

  @Test func symlinksInsideTheRootfsAreFollowed() throws {
    let rootfs = try TempRootfs()
    try rootfs.write("usr/share/base/passwd", "app:x:1000:1001::/:/bin/sh\n")
    try rootfs.write("usr/share/base/group", "extra:x:77:app\n")
    rootfs.link("etc/passwd", to: "../usr/share/base/passwd")
    rootfs.link("etc/group", to: "/usr/share/base/group")
    let user = try ImageUser.resolve("app", rootfs: rootfs.path)
    #expect(user.uid == 1000 && user.gid == 1001 && user.additionalGids == [77])
  }

  @Test func nonRegularPasswdIsRefused() throws {
    let rootfs = try TempRootfs()
    try Files.makeDirectories(rootfs.path + "/etc/passwd", mode: 0o755)
    #expect(throws: CRIError.self) { try ImageUser.resolve("app", rootfs: rootfs.path) }
    let fifo = try TempRootfs()
    #expect(mkfifo(fifo.path + "/etc/passwd", 0o644) == 0)
    #expect(throws: CRIError.self) { try ImageUser.resolve("app", rootfs: fifo.path) }
  }
}
