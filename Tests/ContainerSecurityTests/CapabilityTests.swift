import Support
import ContainerSecurity
import OCI
import Testing

@Suite struct CapabilityTests {
  /// This test host's CapBnd: everything up to CAP_CHECKPOINT_RESTORE but CAP_SYS_RESOURCE (bit 24).
  static let hostLikeMask = "000001fffeffffff"
  let bounding = LinuxCapability.names(inHexMask: hostLikeMask)!

  @Test func tableMatchesKernelBits() {
    #expect(LinuxCapability.names.count == 41)
    #expect(LinuxCapability.names.first == "CAP_CHOWN")
    #expect(LinuxCapability.names.last == "CAP_CHECKPOINT_RESTORE")
    #expect(LinuxCapability.bit(of: "CAP_SYS_ADMIN") == 21)
    #expect(LinuxCapability.bit(of: "net_raw") == 13)
    #expect(LinuxCapability.bit(of: "CAP_PERFMON") == 38)
    #expect(LinuxCapability.bit(of: "CAP_BPF") == 39)
    #expect(LinuxCapability.bit(of: "AUDIT_READ") == 37)
  }

  @Test(arguments: [
    ("net_raw", "CAP_NET_RAW"), ("CAP_NET_RAW", "CAP_NET_RAW"), ("cap_sys_admin", "CAP_SYS_ADMIN"),
    ("Chown", "CAP_CHOWN"),
  ])
  func namesCanonicalise(input: String, expected: String) {
    #expect(LinuxCapability.canonicalName(input) == expected)
  }

  @Test(arguments: ["", "CAP_", "NET_RAWR", "CAP_ALL", "ALL"])
  func unknownNamesDoNotCanonicalise(input: String) {
    #expect(LinuxCapability.canonicalName(input) == nil)
  }

  @Test func capBndHexParses() {
    #expect(bounding.count == 40)
    #expect(!bounding.contains("CAP_SYS_RESOURCE"))
    #expect(bounding.contains("CAP_CHECKPOINT_RESTORE"))
    #expect(LinuxCapability.names(inHexMask: "0000000000000000") == [])
    #expect(LinuxCapability.names(inHexMask: "00000000a80425fb") == [
      "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID",
      "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SYS_CHROOT", "CAP_MKNOD", "CAP_AUDIT_WRITE",
      "CAP_SETFCAP",
    ])
    // Bits above the table are ignored.
    #expect(LinuxCapability.names(inHexMask: "ffffffffffffffff")?.count == 41)
    #expect(LinuxCapability.names(inHexMask: "xyz") == nil)
    #expect(LinuxCapability.names(inHexMask: "") == nil)
    #expect(LinuxCapability.names(inHexMask: "1ffffffffffffffff") == nil)
  }

  @Test func procStatusIsRead() {
    let status = "Name:\tcat\nCapInh:\t0000000000000000\nCapBnd:\t\(Self.hostLikeMask)\nCapAmb:\t0000000000000000\n"
    #expect(LinuxCapability.boundingSet(fromProcStatus: status) == bounding)
    #expect(LinuxCapability.boundingSet(fromProcStatus: "Name:\tcat\n") == nil)
    #expect(!LinuxCapability.currentBoundingSet().isEmpty)
  }

  @Test func defaultsAreCRIOs() throws {
    let set = try CapabilitySet.compute(bounding: bounding)
    #expect(set.names == [
      "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID",
      "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
    ])
    let oci = set.ociCapabilities
    #expect(oci.bounding == set.names && oci.effective == set.names && oci.permitted == set.names)
    #expect(oci.inheritable == [] && oci.ambient == [])
  }

  @Test func addAndDropByAnySpelling() throws {
    let set = try CapabilitySet.compute(add: ["net_raw", "CAP_SYS_TIME"], drop: ["cap_kill", "SETPCAP"], bounding: bounding)
    #expect(set.contains("CAP_NET_RAW") && set.contains("sys_time"))
    #expect(!set.contains("CAP_KILL") && !set.contains("CAP_SETPCAP"))
    #expect(set.contains("CAP_CHOWN"))
  }

  @Test func addAllIsTheBoundingSet() throws {
    let set = try CapabilitySet.compute(add: ["ALL"], bounding: bounding)
    #expect(set.names == bounding)
    let minus = try CapabilitySet.compute(add: ["all"], drop: ["NET_RAW"], bounding: bounding)
    #expect(minus.names == bounding.filter { $0 != "CAP_NET_RAW" })
  }

  @Test func dropAllKeepsOnlyTheAdditions() throws {
    #expect(try CapabilitySet.compute(drop: ["ALL"], bounding: bounding).names == [])
    #expect(try CapabilitySet.compute(add: ["NET_BIND_SERVICE"], drop: ["ALL"], bounding: bounding).names == [
      "CAP_NET_BIND_SERVICE"
    ])
    #expect(try CapabilitySet.compute(add: ["ALL", "CHOWN"], drop: ["ALL"], bounding: bounding).names == ["CAP_CHOWN"])
  }

  @Test func privilegedIsTheBoundingSet() throws {
    let set = try CapabilitySet.compute(add: ["NOT_A_CAP"], privileged: true, bounding: bounding)
    #expect(set.names == bounding)
  }

  @Test func boundingSetClamps() throws {
    let small = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"]
    // Defaults outside the bounding set are left out quietly.
    #expect(try CapabilitySet.compute(bounding: small).names == ["CAP_CHOWN", "CAP_KILL"])
    #expect(try CapabilitySet.compute(add: ["ALL"], bounding: small).names == small)
    // A named addition outside it is an error.
    #expect(throws: CapabilityError.notInBoundingSet("CAP_SYS_RESOURCE")) {
      try CapabilitySet.compute(add: ["SYS_RESOURCE"], bounding: bounding)
    }
  }

  @Test func unknownNamesAreNamed() {
    #expect(throws: CapabilityError.unknown("NET_RAWR", field: "add_capabilities")) {
      try CapabilitySet.compute(add: ["NET_RAWR"], bounding: bounding)
    }
    #expect(throws: CapabilityError.unknown("CAP_FOO", field: "default_capabilities")) {
      try CapabilitySet.compute(defaults: ["CAP_FOO"], bounding: bounding)
    }
    #expect(CapabilityError.unknown("NET_RAWR", field: "add_capabilities").description.contains("\"NET_RAWR\""))
    // Dropping an unknown name drops nothing (CRI-O does the same).
    #expect(throws: Never.self) { try CapabilitySet.compute(drop: ["NOT_A_CAP"], bounding: bounding) }
    #expect(throws: CapabilityError.unknown("NOPE", field: "add_ambient_capabilities")) {
      try CapabilitySet.compute(addAmbient: ["NOPE"], bounding: bounding)
    }
  }

  @Test func ambientCapabilitiesAreAlsoPermittedAndInheritable() throws {
    let set = try CapabilitySet.compute(addAmbient: ["net_raw"], bounding: bounding)
    let oci = set.ociCapabilities
    #expect(oci.ambient == ["CAP_NET_RAW"] && oci.inheritable == ["CAP_NET_RAW"])
    #expect(oci.permitted?.contains("CAP_NET_RAW") == true && oci.bounding?.contains("CAP_NET_RAW") == true)
  }
}
