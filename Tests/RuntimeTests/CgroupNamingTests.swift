import Runtime
import Testing

@Suite struct CgroupNamingTests {
  static let id = "0123abcd"

  @Test(arguments: [
    // (driver, parent, OCI cgroupsPath, filesystem path)
    (CgroupDriver.cgroupfs, "", "/crio/crio-0123abcd", "/crio/crio-0123abcd"),
    (.cgroupfs, "/kubepods/burstable/pod1", "/kubepods/burstable/pod1/crio-0123abcd", "/kubepods/burstable/pod1/crio-0123abcd"),
    (.cgroupfs, "/kubepods//besteffort/pod2/", "/kubepods/besteffort/pod2/crio-0123abcd", "/kubepods/besteffort/pod2/crio-0123abcd"),
    (.cgroupfs, "/", "/crio-0123abcd", "/crio-0123abcd"),
    (.systemd, "", "system.slice:crio:0123abcd", "/system.slice/crio-0123abcd.scope"),
    (
      .systemd, "kubepods-burstable-pod123.slice", "kubepods-burstable-pod123.slice:crio:0123abcd",
      "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod123.slice/crio-0123abcd.scope"
    ),
    (
      .systemd, "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod9.slice",
      "kubepods-besteffort-pod9.slice:crio:0123abcd",
      "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod9.slice/crio-0123abcd.scope"
    ),
    (.systemd, "kubepods.slice", "kubepods.slice:crio:0123abcd", "/kubepods.slice/crio-0123abcd.scope"),
    (.systemd, "-.slice", "-.slice:crio:0123abcd", "/crio-0123abcd.scope"),
  ])
  func names(driver: CgroupDriver, parent: String, oci: String, filesystem: String) throws {
    #expect(try CgroupNaming.ociCgroupsPath(driver: driver, parent: parent, containerID: Self.id) == oci)
    #expect(try CgroupNaming.filesystemPath(driver: driver, parent: parent, containerID: Self.id) == filesystem)
  }

  @Test(arguments: [
    ("system.slice", "/system.slice"),
    ("-.slice", "/"),
    ("a.slice", "/a.slice"),
    ("a-b.slice", "/a.slice/a-b.slice"),
    ("a-b-c.slice", "/a.slice/a-b.slice/a-b-c.slice"),
    ("kubepods-burstable-pod123.slice", "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod123.slice"),
    (
      "kubepods-pod1a2b_3c4d.slice", "/kubepods.slice/kubepods-pod1a2b_3c4d.slice"
    ),
  ])
  func expandsSlices(slice: String, expanded: String) throws {
    #expect(try CgroupNaming.expandSlice(slice) == expanded)
  }

  @Test(arguments: [".slice", "a--b.slice", "-a.slice", "a-.slice", "a/b.slice", "a.scope", "slice", ""])
  func refusesBadSlices(slice: String) {
    #expect(throws: CgroupError.self) { try CgroupNaming.expandSlice(slice) }
  }

  @Test(arguments: [
    "kubepods/burstable",  // relative
    "/kubepods/../etc",
    "/kubepods/./x",
    "/kube\npods",
    "/kube\u{7F}",
    "/kubepods.slice",  // a slice given to cgroupfs
    "/a:b",
  ])
  func refusesBadCgroupfsParents(parent: String) {
    #expect(throws: CgroupError.self) {
      try CgroupNaming.ociCgroupsPath(driver: .cgroupfs, parent: parent, containerID: Self.id)
    }
    #expect(throws: CgroupError.self) {
      try CgroupNaming.filesystemPath(driver: .cgroupfs, parent: parent, containerID: Self.id)
    }
  }

  @Test(arguments: ["/kubepods/burstable", "kubepods", "a--b.slice", "/x/../y.slice", "bad\tname.slice", "a:b.slice"])
  func refusesBadSystemdParents(parent: String) {
    #expect(throws: CgroupError.self) {
      try CgroupNaming.ociCgroupsPath(driver: .systemd, parent: parent, containerID: Self.id)
    }
    #expect(throws: CgroupError.self) {
      try CgroupNaming.filesystemPath(driver: .systemd, parent: parent, containerID: Self.id)
    }
  }

  @Test(arguments: ["", ".", "..", "a/b", "a:b", "a b", "x\n"])
  func refusesBadIDs(id: String) {
    for driver in [CgroupDriver.cgroupfs, .systemd] {
      #expect(throws: CgroupError.invalidContainerID(id)) {
        try CgroupNaming.ociCgroupsPath(driver: driver, parent: "", containerID: id)
      }
    }
  }

  @Test func parentPaths() throws {
    #expect(try CgroupNaming.parentFilesystemPath(driver: .cgroupfs, parent: "") == "/crio")
    #expect(try CgroupNaming.parentFilesystemPath(driver: .cgroupfs, parent: "/kubepods/pod1/") == "/kubepods/pod1")
    #expect(
      try CgroupNaming.parentFilesystemPath(driver: .systemd, parent: "kubepods-besteffort-podx.slice")
        == "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-podx.slice")
  }

  @Test func normalizesPaths() throws {
    #expect(try CgroupPath.normalize("") == "/")
    #expect(try CgroupPath.normalize("a//b/") == "/a/b")
    #expect(throws: CgroupError.self) { try CgroupPath.normalize("/a/../b") }
    #expect(throws: CgroupError.self) { try CgroupPath.normalize("/a\0b") }
  }
}
