import ContainerSecurity
import OCI
import Support
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized) final class DeviceTests {
  let directory: String

  init() throws {
    directory = try Files.makeTemporaryDirectory(prefix: "devices-test-")
  }

  deinit { Files.removeTree(directory) }

  private func mknod(_ path: String, type: mode_t, major: UInt64, minor: UInt64, mode: mode_t = 0o620) throws {
    let dev = dev_t(HostDevices.makeDevice(major: major, minor: minor))
    guard Glibc.mknod(path, type | mode, dev) == 0 else { throw SystemError("mknod", path: path) }
    guard chmod(path, mode) == 0 else { throw SystemError("chmod", path: path) }
  }

  @Test func devNullResolves() throws {
    let devices = try HostDevices.resolve(hostPath: "/dev/null", containerPath: "/dev/null", permissions: "rw")
    #expect(devices.count == 1)
    let device = try #require(devices.first)
    #expect(device.device.type == "c")
    #expect(device.device.path == "/dev/null")
    #expect(device.device.major == 1 && device.device.minor == 3)
    #expect(device.device.fileMode == 0o666)
    #expect(device.device.uid == 0 && device.device.gid == 0)
    #expect(device.rule == Spec.DeviceCgroup(allow: true, type: "c", major: 1, minor: 3, access: "rw"))
  }

  @Test func anotherCharacterDeviceKeepsItsNumbersAndRenames() throws {
    let candidates: [String] = ["/dev/loop-control", "/dev/zero"]
    let path = try #require(candidates.first { (path: String) in access(path, F_OK) == 0 })
    var info = stat()
    #expect(stat(path, &info) == 0)
    let expected = HostDevices.split(UInt64(info.st_rdev))
    let device = try #require(
      try HostDevices.resolve(hostPath: path, containerPath: "/dev/ctl", permissions: "").first)
    #expect(device.device.path == "/dev/ctl")
    #expect(device.device.major == expected.major && device.device.minor == expected.minor)
    #expect(device.rule.access == "rwm")
  }

  @Test func devNumbersRoundTrip() {
    for (major, minor) in [(1, 3), (10, 237), (259, 0), (4095, 1_048_575), (4096, 256), (0xfffff, 0xfffff)]
    as [(UInt64, UInt64)] {
      let (a, b) = HostDevices.split(HostDevices.makeDevice(major: major, minor: minor))
      #expect(a == Int64(major) && b == Int64(minor))
    }
  }

  @Test func directoryExpandsToTheDevicesInside() throws {
    try Files.makeDirectories(directory + "/input/sub", mode: 0o755)
    try mknod(directory + "/input/event0", type: S_IFCHR, major: 13, minor: 64)
    try mknod(directory + "/input/sub/disk", type: S_IFBLK, major: 7, minor: 9, mode: 0o600)
    try Files.write(directory + "/input/README", "not a device")
    symlink("/dev/null", directory + "/input/link")
    let devices = try HostDevices.resolve(hostPath: directory + "/input", containerPath: "/dev/input", permissions: "r")
    #expect(devices.map(\.device.path) == ["/dev/input/event0", "/dev/input/sub/disk"])
    #expect(devices.map(\.device.type) == ["c", "b"])
    #expect(devices[0].device.major == 13 && devices[0].device.minor == 64)
    #expect(devices[0].device.fileMode == 0o620)
    #expect(devices[1].rule == Spec.DeviceCgroup(allow: true, type: "b", major: 7, minor: 9, access: "r"))
    let slashed = try HostDevices.resolve(hostPath: directory + "/input/", containerPath: "/dev/in/", permissions: "r")
    #expect(slashed.map(\.device.path) == ["/dev/in/event0", "/dev/in/sub/disk"])
  }

  @Test func nonDevicesAndMissingPathsAreErrors() throws {
    try Files.write(directory + "/plain", "x")
    #expect(throws: DeviceError.notADevice(directory + "/plain")) {
      try HostDevices.resolve(hostPath: directory + "/plain", containerPath: "/dev/x", permissions: "rwm")
    }
    #expect(throws: DeviceError.notFound("/dev/does-not-exist")) {
      try HostDevices.resolve(hostPath: "/dev/does-not-exist", containerPath: "/dev/x", permissions: "rwm")
    }
    #expect(throws: DeviceError.invalidPermissions("rwx")) {
      try HostDevices.resolve(hostPath: "/dev/null", containerPath: "/dev/null", permissions: "rwx")
    }
  }

  @Test(arguments: ["r", "w", "m", "rw", "rwm", "mwr", "wm"])
  func validPermissions(text: String) { #expect(HostDevices.isValidPermissions(text)) }

  @Test(arguments: ["", "rr", "rwmr", "x", "RW", "r w"])
  func invalidPermissions(text: String) { #expect(!HostDevices.isValidPermissions(text)) }

  @Test func specificationsParseLikeCRIO() throws {
    #expect(try DeviceSpecification(parsing: "/dev/fuse") == DeviceSpecification(hostPath: "/dev/fuse", containerPath: "/dev/fuse"))
    #expect(try DeviceSpecification(parsing: "/dev/sdc:/dev/xvdc:rw")
      == DeviceSpecification(hostPath: "/dev/sdc", containerPath: "/dev/xvdc", permissions: "rw"))
    #expect(try DeviceSpecification(parsing: "/dev/sdc:/dev/xvdc")
      == DeviceSpecification(hostPath: "/dev/sdc", containerPath: "/dev/xvdc", permissions: "rwm"))
    #expect(try DeviceSpecification(parsing: "/dev/sdc:r")
      == DeviceSpecification(hostPath: "/dev/sdc", containerPath: "/dev/sdc", permissions: "r"))
    for bad in ["", "dev/sdc", "/dev/sdc:xvdc", "/dev/sdc:/dev/xvdc:rwx", "/dev/sdc:/tmp/x", "/dev/a:/dev/b:r:w", "/dev/../etc/shadow"] {
      #expect(throws: DeviceError.self, "\(bad)") { try DeviceSpecification(parsing: bad) }
    }
  }

  @Test func additionalAndAnnotationDevices() throws {
    let devices = try HostDevices.additionalDevices(["/dev/null:/dev/mynull:rw", ""])
    #expect(devices.map(\.device.path) == ["/dev/mynull"])
    #expect(devices.first?.rule.access == "rw")

    let allowed = try HostDevices.parseAllowedDevices(["/dev/fuse", "/dev/null", ""])
    #expect(allowed == ["/dev/fuse", "/dev/null"])
    #expect(throws: DeviceError.self) { try HostDevices.parseAllowedDevices(["fuse"]) }
    #expect(throws: DeviceError.self) { try HostDevices.parseAllowedDevices(["/dev/a:/dev/b"]) }

    let annotated = try HostDevices.annotationDevices("/dev/null:/dev/n1:r,/dev/null", allowed: allowed)
    #expect(annotated.map(\.device.path) == ["/dev/n1", "/dev/null"])
    #expect(throws: DeviceError.notAllowed("/dev/zero")) {
      try HostDevices.annotationDevices("/dev/null,/dev/zero", allowed: allowed)
    }
    #expect(throws: DeviceError.notADevice("/etc/hostname")) {
      try HostDevices.additionalDevices(["/etc/hostname:/dev/h"])
    }
  }

  @Test func privilegedDevicesSkipLikeRunc() throws {
    try Files.makeDirectories(directory + "/dev/pts", mode: 0o755)
    try Files.makeDirectories(directory + "/dev/snd", mode: 0o755)
    try mknod(directory + "/dev/null", type: S_IFCHR, major: 1, minor: 3)
    try mknod(directory + "/dev/console", type: S_IFCHR, major: 5, minor: 1)
    try mknod(directory + "/dev/pts/0", type: S_IFCHR, major: 136, minor: 0)
    try mknod(directory + "/dev/snd/timer", type: S_IFCHR, major: 116, minor: 33)
    try mknod(directory + "/dev/fifo", type: S_IFIFO, major: 0, minor: 0)
    try mknod(directory + "/dev/zero0", type: S_IFCHR, major: 0, minor: 0)
    symlink("null", directory + "/dev/stdout")
    let devices = HostDevices.privilegedDevices(root: directory + "/dev")
    #expect(devices.map(\.path) == [directory + "/dev/null", directory + "/dev/snd/timer"])

    let host = HostDevices.privilegedDevices()
    #expect(host.contains { $0.path == "/dev/null" && $0.major == 1 && $0.minor == 3 })
    #expect(!host.contains { $0.path.hasPrefix("/dev/pts/") || $0.path == "/dev/console" })
  }
}
