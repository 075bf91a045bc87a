import Foundation
import OCI
import Runtime
import Testing

@Suite struct CgroupResourcesTests {
  @Test(arguments: [
    (UInt64(0), UInt64(0)),
    (1, 1),  // below the minimum: clamped to 2
    (2, 1),
    (3, 1),
    (1024, 39),
    (512, 20),
    (102, 4),
    (262_144, 10_000),
    (300_000, 10_000),  // above the maximum: clamped
  ])
  func cpuSharesToWeight(shares: UInt64, weight: UInt64) {
    #expect(CgroupConversions.cpuWeight(fromShares: shares) == weight)
  }

  @Test func cpuMax() {
    #expect(CgroupConversions.cpuMax(quota: nil, period: nil) == "max 100000")
    #expect(CgroupConversions.cpuMax(quota: -1, period: 50000) == "max 50000")
    #expect(CgroupConversions.cpuMax(quota: 25000, period: 50000) == "25000 50000")
    #expect(CgroupConversions.cpuMax(quota: 150_000, period: 0) == "150000 100000")
  }

  static let swapCases: [(swap: Int64, memory: Int64, expected: Int64?)] = [
    // (swap, memory, v2 swap.max or nil when refused)
    (0, -1, -1),  // unlimited memory, swap unset: unlimited swap
    (0, 1 << 20, 0),  // unset stays unset
    (-1, 1 << 20, -1),  // unlimited
    (2 << 20, 1 << 20, 1 << 20),  // memory+swap − memory
    (1 << 20, 1 << 20, 0),  // no swap
    (1 << 19, 1 << 20, nil),  // memory+swap below memory
    (1 << 20, 0, nil),  // swap without a memory limit
    (1 << 20, -1, nil),
    (1 << 20, -5, nil),
  ]

  @Test(arguments: swapCases)
  func memorySwap(swap: Int64, memory: Int64, expected: Int64?) throws {
    if let expected {
      #expect(try CgroupConversions.memorySwapV2(swap: swap, memory: memory) == expected)
    } else {
      #expect(throws: CgroupError.self) { try CgroupConversions.memorySwapV2(swap: swap, memory: memory) }
    }
  }

  @Test func acceptsUnifiedFiles() throws {
    try CgroupConversions.validateUnified(
      ["memory.high": "1073741824", "memory.oom.group": "1", "cpu.max": "max 100000", "io.weight": "default 100",
       "hugetlb.2MB.max": "0", "pids.max": "max"],
      version: .v2)
    try CgroupConversions.validateUnified([:], version: .v1)
  }

  @Test(arguments: [
    "memory/high", "../memory.high", "memory..high", "memory", ".high", "memory.", "memory high", "cgroup.procs",
    "cgroup.subtree_control", "memory.hi\ngh", "",
  ])
  func refusesUnifiedKeys(key: String) {
    #expect(throws: CgroupError.self) { try CgroupConversions.validateUnified([key: "1"], version: .v2) }
  }

  @Test func refusesUnifiedValuesAndV1() {
    #expect(throws: CgroupError.self) { try CgroupConversions.validateUnified(["memory.high": "1\n2"], version: .v2) }
    #expect(throws: CgroupError.self) { try CgroupConversions.validateUnified(["memory.high": "1"], version: .v1) }
  }

  @Test func runcUpdateJSONIsLinuxResources() throws {
    let resources = Spec.Resources(
      memory: Spec.Memory(limit: 256 << 20, swap: 512 << 20),
      cpu: Spec.CPU(shares: 512, quota: 50000, period: 100_000, cpus: "0-1"),
      pids: Spec.Pids(limit: 99),
      unified: ["memory.high": "max"])
    let bytes = RuncUpdate.json(resources: resources)
    let object = try #require(JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    #expect(Set(object.keys) == ["memory", "cpu", "pids", "unified"])
    let memory = try #require(object["memory"] as? [String: Any])
    #expect(memory["limit"] as? Int == 256 << 20)
    #expect(memory["swap"] as? Int == 512 << 20)
    #expect(memory["reservation"] == nil)
    let cpu = try #require(object["cpu"] as? [String: Any])
    #expect(cpu["shares"] as? Int == 512)
    #expect(cpu["quota"] as? Int == 50000)
    #expect(cpu["period"] as? Int == 100_000)
    #expect(cpu["cpus"] as? String == "0-1")
    #expect((object["pids"] as? [String: Any])?["limit"] as? Int == 99)
    #expect((object["unified"] as? [String: String]) == ["memory.high": "max"])
    // Decodes back to the same resources (what runc reads is what we meant).
    #expect(try JSONDecoder().decode(Spec.Resources.self, from: Data(bytes)) == resources)
    #expect(String(decoding: RuncUpdate.json(resources: Spec.Resources()), as: UTF8.self) == "{}")
  }
}
