import Foundation
import Runtime
import Support
import Testing

@Suite struct CgroupLayoutTests {
  /// This machine's table: v1 hierarchies beside a hybrid cgroup2 mount.
  static let hybridMountInfo = """
    22 1 253:1 / / rw,relatime shared:1 - ext4 /dev/vda rw
    31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
    32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct
    34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset,clone_children
    35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
    36 31 0:33 /docker/abc /sys/fs/cgroup/memory-bind rw,relatime - cgroup cgroup rw,memory
    39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
    40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
    41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate
    42 31 0:39 / /sys/fs/cgroup/net_cls,net_prio rw,relatime - cgroup cgroup rw,net_cls,net_prio
    43 22 0:40 / /mnt/with\\040space rw,relatime - cgroup cgroup rw,hugetlb,release_agent=/x
    bad line
    """

  @Test func parsesMountInfoFields() {
    let entries = MountInfoEntry.parse(Self.hybridMountInfo)
    #expect(entries.count == 11)
    let cpu = entries.first { $0.mountPoint == "/sys/fs/cgroup/cpu,cpuacct" }
    #expect(cpu?.filesystemType == "cgroup")
    #expect(cpu?.superOptions == "rw,cpu,cpuacct")
    #expect(cpu?.root == "/")
    #expect(entries.contains { $0.mountPoint == "/mnt/with space" })
  }

  @Test func v1LayoutFromMountInfo() throws {
    let layout = CgroupLayout.fromMountInfo(MountInfoEntry.parse(Self.hybridMountInfo))
    #expect(layout.version == .v1)
    #expect(layout.unifiedMount == "/sys/fs/cgroup/unified")
    #expect(
      layout.controllerMounts == [
        "cpu": "/sys/fs/cgroup/cpu,cpuacct", "cpuacct": "/sys/fs/cgroup/cpu,cpuacct",
        "cpuset": "/sys/fs/cgroup/cpuset",
        // The mount of the hierarchy's root wins over a bind mount of a sub-cgroup.
        "memory": "/sys/fs/cgroup/memory",
        "pids": "/sys/fs/cgroup/pids", "name=systemd": "/sys/fs/cgroup/systemd",
        "net_cls": "/sys/fs/cgroup/net_cls,net_prio", "net_prio": "/sys/fs/cgroup/net_cls,net_prio",
        "hugetlb": "/mnt/with space",
      ])
    #expect(
      layout.hierarchyMounts == [
        "/mnt/with space", "/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/cpuset", "/sys/fs/cgroup/memory",
        "/sys/fs/cgroup/net_cls,net_prio", "/sys/fs/cgroup/pids", "/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified",
      ])
    #expect(try layout.directory(for: "crio/crio-1", controller: "cpuacct") == "/sys/fs/cgroup/cpu,cpuacct/crio/crio-1")
    #expect(try layout.directory(for: "/", controller: "memory") == "/sys/fs/cgroup/memory")
    #expect(try layout.directory(for: "/x", controller: "rdma") == nil)
    #expect(throws: CgroupError.self) { try layout.directory(for: "/crio/../etc", controller: "memory") }
  }

  @Test func v2LayoutIgnoresControllers() throws {
    let layout = CgroupLayout.v2(root: "/sys/fs/cgroup")
    #expect(layout.hierarchyMounts == ["/sys/fs/cgroup"])
    #expect(try layout.directory(for: "//kubepods.slice//x.scope/", controller: "memory") == "/sys/fs/cgroup/kubepods.slice/x.scope")
  }

  @Test func detectsThisHost() throws {
    let layout = try CgroupLayout.detect()
    let top = MountInfoEntry.parse(try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8))
      .last { $0.mountPoint == "/sys/fs/cgroup" }
    if top?.filesystemType == "cgroup2" {
      #expect(layout.version == .v2)
      #expect(layout.unifiedMount == "/sys/fs/cgroup")
    } else {
      #expect(layout.version == .v1)
      #expect(layout.controllerMounts["memory"] != nil)
      #expect(layout.controllerMounts["pids"] != nil)
    }
    #expect(try CgroupLayout.current() == layout)
  }

  @Test func detectionFailsWithoutCgroups() throws {
    let tree = try CgroupFixtureTree()
    defer { tree.remove() }
    try tree.write("mountinfo", "22 1 253:1 / / rw,relatime shared:1 - ext4 /dev/vda rw\n")
    #expect(throws: CgroupError.self) {
      try CgroupLayout.detect(cgroupRoot: tree.root, mountInfoPath: tree.root + "/mountinfo")
    }
  }
}

@Suite struct CgroupRemovalTests {
  @Test func removesFromEveryHierarchyDeepestFirst() async throws {
    let tree = try CgroupFixtureTree()
    defer { tree.remove() }
    for directory in ["cpu,cpuacct/crio/crio-1/sub/deeper", "memory/crio/crio-1/sub", "pids/crio/crio-1", "pids/crio/crio-2"] {
      try tree.makeDirectory(directory)
    }
    try tree.makeDirectory("unified")
    let layout = CgroupLayout.v1(
      controllerMounts: [
        "cpu": tree.root + "/cpu,cpuacct", "cpuacct": tree.root + "/cpu,cpuacct", "memory": tree.root + "/memory",
        "pids": tree.root + "/pids",
      ], unifiedMount: tree.root + "/unified")
    #expect(layout.cgroupExists(relativePath: "/crio/crio-1"))
    try await layout.removeCgroup(relativePath: "crio/crio-1")
    #expect(!layout.cgroupExists(relativePath: "/crio/crio-1"))
    for controller in ["cpu,cpuacct", "memory", "pids"] {
      #expect(Files.kind(of: tree.root + "/\(controller)/crio") == .directory)
      #expect(Files.kind(of: tree.root + "/\(controller)/crio/crio-1") == .missing)
    }
    #expect(layout.cgroupExists(relativePath: "/crio/crio-2"))
    // Gone already: fine. The root, or a path out of the tree: refused.
    try await layout.removeCgroup(relativePath: "/crio/crio-1")
    await #expect(throws: CgroupError.self) { try await layout.removeCgroup(relativePath: "/") }
    await #expect(throws: CgroupError.self) { try await layout.removeCgroup(relativePath: "/crio/../..") }
    #expect(Files.kind(of: tree.root + "/pids") == .directory)
  }

  @Test func reportsWhatCannotBeRemoved() async throws {
    let tree = try CgroupFixtureTree()
    defer { tree.remove() }
    // A regular directory with a file is not empty (a real cgroup's files never block rmdir).
    try tree.write("x/c/file", "1")
    let layout = CgroupLayout.v2(root: tree.root + "/x")
    await #expect(throws: CgroupError.self) { try await layout.removeCgroup(relativePath: "/c") }
  }
}
