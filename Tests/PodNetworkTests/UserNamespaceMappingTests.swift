#if canImport(Glibc)
import Glibc
#endif
import CSupport
import PodNetwork
import Support
import Testing

@Suite struct UserNamespaceMappingTests {
  static func range(_ container: UInt32, _ host: UInt32, _ length: UInt32) -> IDMapRange {
    IDMapRange(containerID: container, hostID: host, size: length)
  }

  static let valid = [range(0, 100_000, 65536)]

  @Test(arguments: [
    ([range(0, 100_000, 65536)], nil),
    ([range(0, 100_000, 1000), range(1000, 300_000, 10)], nil),
    ([], "is empty"),
    ([range(0, 100_000, 0)], "is empty or goes past"),
    ([range(0, UInt32.max - 10, 65536)], "goes past 4294967295"),
    ([range(1, UInt32.max, 1)], "goes past"),
    ([range(0, 100_000, 100), range(50, 500_000, 100)], "overlap inside the container"),
    ([range(0, 100_000, 100), range(1000, 100_050, 100)], "overlap on the host"),
    ([range(1, 100_000, 100)], "does not map the container's ID 0"),
  ] as [([IDMapRange], String?)])
  func rangesAreChecked(ranges: [IDMapRange], problem: String?) {
    do {
      _ = try UserNamespaceMappings(uids: ranges, gids: Self.valid)
      #expect(problem == nil)
    } catch {
      #expect(problem.map { error.description.contains($0) } == true, "\(error)")
      #expect(error.description.hasPrefix("userns_options.uids"))
    }
  }

  @Test func tooManyRangesAreRefused() {
    let ranges = (0..<341).map { Self.range(UInt32($0) * 10, 100_000 + UInt32($0) * 10, 10) }
    #expect(throws: NamespaceError.self) { try UserNamespaceMappings(uids: ranges, gids: Self.valid) }
    #expect(throws: Never.self) { try UserNamespaceMappings(uids: Array(ranges.prefix(340)), gids: Self.valid) }
  }

  @Test func hostIDsOfContainerIDs() throws {
    let mappings = try UserNamespaceMappings(
      uids: [Self.range(0, 100_000, 1000), Self.range(1000, 300_000, 10)], gids: [Self.range(0, 200_000, 65536)])
    #expect(mappings.hostRootUID == 100_000)
    #expect(mappings.hostRootGID == 200_000)
    #expect(UserNamespaceMappings.host(999, in: mappings.uids) == 100_999)
    #expect(UserNamespaceMappings.host(1005, in: mappings.uids) == 300_005)
    #expect(UserNamespaceMappings.host(1010, in: mappings.uids) == nil)
  }

  @Test(arguments: [
    ("0:100000:65536", Optional(range(0, 100_000, 65536))),
    ("0:100000", nil), ("a:1:2", nil), ("0:1:2:3", nil), ("-1:0:1", nil), ("0:4294967296:1", nil),
  ])
  func helperArguments(text: String, expected: IDMapRange?) {
    #expect(IDMapRange(argument: text) == expected)
    if let expected { #expect(expected.argument == text) }
  }

  /// ramfs cannot be idmapped: the daemon then says so (and Status does
  /// not announce user namespaces); where nothing can be tried, it says that.
  @Test func aFileSystemWithoutIdmappedMountsIsNamed() throws {
    let dir = try Files.makeTemporaryDirectory(prefix: "crio-ramfs")
    defer {
      umount2(dir, Int32(MNT_DETACH))
      Files.removeTree(dir)
    }
    try #require(mount("ramfs", dir, "ramfs", 0, nil) == 0)
    let reason = UserNamespaces.unsupportedReason(directory: dir)
    #expect(reason?.contains("idmapped mounts of \(dir) fail") == true, "\(reason ?? "nil")")
    #expect(try Files.list(dir).isEmpty, "the probe cleans up after itself")
    let sysfs = UserNamespaces.unsupportedReason(directory: "/sys/kernel")
    #expect(sysfs?.contains("cannot try idmapped mounts in /sys/kernel") == true, "\(sysfs ?? "nil")")
  }

  /// A real user namespace and idmapped mount: a file owned by root on
  /// disk is seen as the mapped root through the mount.
  @Test func idmappedMountShowsMappedOwners() throws {
    let dir = try Files.makeTemporaryDirectory(prefix: "crio-idmap")
    defer {
      umount2(dir + "/mapped", Int32(MNT_DETACH))
      Files.removeTree(dir)
    }
    try Files.makeDirectories(dir + "/source", mode: 0o755)
    try Files.makeDirectories(dir + "/mapped", mode: 0o755)
    try Files.write(dir + "/source/file", "x")
    #expect(chown(dir + "/source/file", 1000, 1000) == 0)
    #expect(UserNamespaces.unsupportedReason(directory: dir) == nil)

    let userns = try UserNamespaces.open(
      UserNamespaceMappings(uids: [Self.range(0, 100_000, 65536)], gids: [Self.range(0, 200_000, 65536)]))
    defer { close(userns) }
    let tree = crio_idmapped_clone(dir + "/source", userns, 1)
    #expect(tree >= 0)
    defer { close(tree) }
    #expect(crio_attach_mount(tree, dir + "/mapped") == 0)
    var info = stat()
    #expect(stat(dir + "/mapped/file", &info) == 0)
    #expect(info.st_uid == 101_000 && info.st_gid == 201_000, "\(info.st_uid):\(info.st_gid)")
    #expect(crio_is_mount_root(dir + "/mapped") == 1)
    #expect(crio_is_mount_root(dir + "/source") == 0)
    // removeTree detaches a mount it meets instead of emptying it.
    Files.removeTree(dir + "/mapped")
    #expect(Files.kind(of: dir + "/source/file") == .file)
    #expect(Files.kind(of: dir + "/mapped") == .missing)
  }
}
