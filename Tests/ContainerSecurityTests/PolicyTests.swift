import ContainerSecurity
import Support
import Testing

@Suite struct ProcfsProtectionTests {
  let kubeletMasked = [
    "/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
    "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
  ]
  let kubeletReadonly = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]

  @Test func criListsAreMergedWithTheDefaults() {
    let result = ProcfsProtection.resolve(
      masked: kubeletMasked + ["/proc/custom"], readonly: kubeletReadonly, privileged: false,
      extraMasked: ["/sys/devices/system/cpu/cpu0/thermal_throttle"])
    #expect(result.masked == result.masked.sorted())
    #expect(Set(result.masked) == Set(ProcfsProtection.defaultMaskedPaths + kubeletMasked + [
      "/proc/custom", "/sys/devices/system/cpu/cpu0/thermal_throttle",
    ]))
    #expect(result.masked.count == Set(result.masked).count)
    #expect(result.masked.contains("/proc/interrupts") && result.masked.contains("/sys/fs/selinux"))
    #expect(result.readonly == kubeletReadonly)
  }

  @Test func unmaskedProcMountGivesNothing() {
    let result = ProcfsProtection.resolve(masked: [], readonly: [], privileged: false, extraMasked: [])
    #expect(result.masked.isEmpty && result.readonly.isEmpty)
  }

  @Test func defaultsWhenUnsetForOtherClients() {
    let result = ProcfsProtection.resolve(
      masked: [], readonly: [], privileged: false, defaultsWhenUnset: true, extraMasked: [])
    #expect(result.masked == ProcfsProtection.defaultMaskedPaths.sorted())
    #expect(result.readonly == ProcfsProtection.defaultReadonlyPaths)
  }

  @Test func privilegedGetsNone() {
    let result = ProcfsProtection.resolve(masked: kubeletMasked, readonly: kubeletReadonly, privileged: true)
    #expect(result.masked.isEmpty && result.readonly.isEmpty)
  }

  @Test func thermalThrottleGlob() throws {
    let root = try Files.makeTemporaryDirectory(prefix: "cpu-test-")
    defer { Files.removeTree(root) }
    try Files.makeDirectories(root + "/cpu0/thermal_throttle", mode: 0o755)
    try Files.makeDirectories(root + "/cpu1", mode: 0o755)
    try Files.makeDirectories(root + "/cpufreq", mode: 0o755)
    try Files.makeDirectories(root + "/online/thermal_throttle", mode: 0o755)
    #expect(ProcfsProtection.thermalThrottlePaths(cpuDirectory: root) == [root + "/cpu0/thermal_throttle"])
    #expect(ProcfsProtection.thermalThrottlePaths(cpuDirectory: root + "/missing") == [])
  }
}

@Suite struct LinuxSecurityModuleTests {
  let off = LinuxSecurityModules(appArmorEnabled: false, selinuxEnabled: false)
  let on = LinuxSecurityModules(appArmorEnabled: true, selinuxEnabled: true)

  @Test func detectionOnThisHost() {
    let host = LinuxSecurityModules.detect()
    #expect(host.appArmorEnabled == ((try? Files.read("/sys/module/apparmor/parameters/enabled"))?.hasPrefix("Y") ?? false))
    #expect(host.selinuxEnabled == Files.kind(of: "/sys/fs/selinux/enforce").isPresent)
  }

  @Test func detectionReadsAFakeTree() throws {
    let root = try Files.makeTemporaryDirectory(prefix: "lsm-test-")
    defer { Files.removeTree(root) }
    #expect(LinuxSecurityModules.detect(root: root) == off)
    try Files.makeDirectories(root + "/sys/module/apparmor/parameters", mode: 0o755)
    try Files.write(root + "/sys/module/apparmor/parameters/enabled", "Y\n")
    try Files.makeDirectories(root + "/sys/fs/selinux", mode: 0o755)
    try Files.write(root + "/sys/fs/selinux/enforce", "1")
    #expect(LinuxSecurityModules.detect(root: root) == on)
    try Files.write(root + "/sys/module/apparmor/parameters/enabled", "N\n")
    #expect(LinuxSecurityModules.detect(root: root).appArmorEnabled == false)
  }

  @Test func appArmorRequestsParse() throws {
    #expect(try AppArmorRequest(parsing: "") == .runtimeDefault)
    #expect(try AppArmorRequest(parsing: "runtime/default") == .runtimeDefault)
    #expect(try AppArmorRequest(parsing: "unconfined") == .unconfined)
    #expect(try AppArmorRequest(parsing: "localhost/my-profile") == .localhost("my-profile"))
    #expect(try AppArmorRequest.localhost(name: "localhost/p") == .localhost("p"))
    #expect(throws: LSMError.invalidAppArmorProfile("localhost/")) { try AppArmorRequest(parsing: "localhost/") }
    #expect(throws: LSMError.invalidAppArmorProfile("docker-default")) { try AppArmorRequest(parsing: "docker-default") }
  }

  @Test func appArmorProfiles() throws {
    #expect(try on.appArmorProfile(for: .runtimeDefault) == "crio-default")
    #expect(try on.appArmorProfile(for: .unconfined) == "unconfined")
    #expect(try on.appArmorProfile(for: .localhost("p")) == "p")
    #expect(try off.appArmorProfile(for: .runtimeDefault) == nil)
    #expect(try off.appArmorProfile(for: .unconfined) == nil)
    #expect(throws: LSMError.appArmorDisabled(profile: "localhost/p")) { try off.appArmorProfile(for: .localhost("p")) }
    #expect(LSMError.appArmorDisabled(profile: "localhost/p").description
      == "AppArmor is not enabled on this host; profile \"localhost/p\" cannot be applied")
  }

  @Test func selinuxLabels() throws {
    #expect(try on.selinuxLabel(SELinuxOptions()) == nil)
    #expect(try off.selinuxLabel(SELinuxOptions()) == nil)
    #expect(try on.selinuxLabel(SELinuxOptions(user: "u", role: "r", type: "t", level: "s0:c1,c2")) == "u:r:t:s0:c1,c2")
    #expect(try on.selinuxLabel(SELinuxOptions(level: "s0:c4,c5")) == "system_u:system_r:container_t:s0:c4,c5")
    #expect(throws: LSMError.selinuxDisabled(label: "system_u:system_r:spc_t:s0")) {
      try off.selinuxLabel(SELinuxOptions(type: "spc_t"))
    }
    #expect(LSMError.selinuxDisabled(label: "a:b:c:d").description.hasPrefix("SELinux is not enabled on this host"))
    #expect(throws: LSMError.invalidSELinuxOption(field: "type", value: "a:b")) {
      try on.selinuxLabel(SELinuxOptions(type: "a:b"))
    }
    #expect(throws: LSMError.self) { try on.selinuxLabel(SELinuxOptions(level: "s0\nx")) }
  }
}

@Suite struct UntrustedValueTests {
  @Test(arguments: [(0, 0), (1000, 1000), (65534, 65534), (4_294_967_294, 4_294_967_294)] as [(Int64, UInt32)])
  func validIDs(value: Int64, expected: UInt32) throws {
    #expect(try UntrustedValues.id(value, field: "run_as_user") == expected)
  }

  @Test(arguments: [-1, -4_294_967_296, 4_294_967_295, 4_294_967_296, Int64.max] as [Int64])
  func invalidIDs(value: Int64) {
    #expect(throws: UntrustedValueError.invalidID(field: "run_as_user", value: value)) {
      try UntrustedValues.id(value, field: "run_as_user")
    }
  }

  @Test(arguments: ["root", "app-user", "/home/app", "/bin/sh", "Ünïcode", ""])
  func acceptablePasswdFields(value: String) throws {
    #expect(try UntrustedValues.passwdField(value, field: "user") == value)
  }

  @Test(arguments: ["a\nroot::0:0::/:/bin/sh", "a\0", "x:y", "tab\there", "del\u{7f}", "cr\r"])
  func passwdFieldsWithControlCharactersAreRefused(value: String) {
    #expect(throws: UntrustedValueError.self) { try UntrustedValues.passwdField(value, field: "user") }
  }

  @Test func controlCharacterDetection() {
    #expect(UntrustedValues.containsControlCharacters("a\u{1b}[31m"))
    #expect(!UntrustedValues.containsControlCharacters("plain text"))
  }

  @Test(arguments: [
    ("/data", "/data"), ("//var//lib/./db/", "/var/lib/db"), ("/a/b/c", "/a/b/c"), ("/x/.", "/x"),
  ])
  func volumePathsAreCleaned(input: String, expected: String) throws {
    #expect(try UntrustedValues.volumePath(input) == expected)
  }

  @Test(arguments: ["", "data", "./data", "/data/../etc", "/..", "/", "//", "/a\0b"])
  func badVolumePathsAreRefused(input: String) {
    #expect(throws: UntrustedValueError.self) { try UntrustedValues.volumePath(input) }
  }

  @Test func annotationAllowList() throws {
    let none = try AnnotationAllowList(allowed: [])
    #expect(!none.permits("io.kubernetes.cri-o.userns-mode"))
    #expect(!none.permits("io.kubernetes.cri-o.Devices"))
    #expect(!none.permits("unified-cgroup.crio.io/ctr"))
    #expect(!none.permits("run.oci.keep_original_groups"))
    #expect(!none.permits("org.systemd.property.CPUWeight"))
    #expect(none.permits("io.kubernetes.pod.name"))
    #expect(none.permits("example.com/anything"))

    let userns = try AnnotationAllowList(allowed: ["io.kubernetes.cri-o.userns-mode", "unified-cgroup.crio.io"])
    #expect(userns.permits("io.kubernetes.cri-o.userns-mode"))
    #expect(userns.permits("unified-cgroup.crio.io/ctr"))
    #expect(!userns.permits("io.kubernetes.cri-o.Devices"))
    #expect(userns.filter([
      "io.kubernetes.cri-o.userns-mode": "auto", "io.kubernetes.cri-o.ShmSize": "1Gi", "app": "x",
    ]) == ["io.kubernetes.cri-o.userns-mode": "auto", "app": "x"])

    #expect(throws: UntrustedValueError.unknownAllowedAnnotation("io.kubernetes.cri-o.nope")) {
      try AnnotationAllowList(allowed: ["io.kubernetes.cri-o.nope"])
    }
  }
}

extension Files.Kind {
  fileprivate var isPresent: Bool { self != .missing }
}
