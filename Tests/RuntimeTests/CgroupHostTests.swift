import Foundation
import OCI
import Runtime
import Support
import Testing

private func canManageCgroups() -> Bool {
  guard getuid() == 0, let layout = try? CgroupLayout.current() else { return false }
  let probe = layout.version == .v2 ? layout.unifiedMount : layout.controllerMounts["memory"]
  return probe.map { access($0, W_OK) == 0 } ?? false
}

private func trim(_ text: some StringProtocol) -> String {
  String(text).trimmingCharacters(in: .whitespacesAndNewlines)
}

/// Real cgroups of this machine (v1 or v2): needs root and a writable
/// /sys/fs/cgroup. Every test removes what it made, even when it fails.
@Suite(.serialized, .enabled(if: canManageCgroups(), "needs root and writable cgroups"))
struct CgroupHostTests {
  static func uniqueName() -> String {
    "/crio-test-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
  }

  /// The cgroup directories for `path`: memory, cpuacct and pids on v1; one
  /// directory on v2, with those controllers enabled for the root's children.
  static func directories(_ layout: CgroupLayout, _ path: String) throws -> [String] {
    switch layout.version {
    case .v1:
      return try ["memory", "cpuacct", "pids"].map { controller in
        try #require(try layout.directory(for: path, controller: controller), "\(controller) not mounted")
      }
    case .v2:
      let root = try #require(layout.unifiedMount)
      let available = Set(try Files.read(root + "/cgroup.controllers").split(separator: " ").map { trim($0) })
      let enabled = Set(try Files.read(root + "/cgroup.subtree_control").split(separator: " ").map { trim($0) })
      for controller in ["cpu", "memory", "pids"] where available.contains(controller) && !enabled.contains(controller) {
        try Files.write(root + "/cgroup.subtree_control", "+" + controller)
      }
      return [root + path]
    }
  }

  @Test func statsOfAProcessMovedIntoANewCgroupAndRemoval() async throws {
    let layout = try CgroupLayout.current()
    let name = Self.uniqueName()
    let directories = try Self.directories(layout, name)
    var made: [String] = []
    var child: pid_t = 0
    let scratch = try CgroupFixtureTree()
    defer { scratch.remove() }
    try await withCleanUp {
      for directory in directories {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        made.append(directory)
      }
      #expect(layout.cgroupExists(relativePath: name))
      // A child cgroup, so removal has to go depth first.
      try FileManager.default.createDirectory(atPath: directories[0] + "/child", withIntermediateDirectories: false)
      made.append(directories[0] + "/child")

      // The shell waits until it has been moved; then it burns some CPU and
      // execs sleep, so time and pages are charged to the new cgroup (v1 does
      // not move charges made before).
      let go = scratch.root + "/go"
      child = try Processes.spawn(
        "/bin/sh",
        ["-c", "while [ ! -e \(go) ]; do sleep 0.02; done; i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; exec sleep 600"],
        stdout: "/dev/null", stderr: "/dev/null")
      for directory in directories {
        try Files.write(directory + "/cgroup.procs", String(child))
      }
      try Files.write(go, "")
      let procs = try Files.read(directories[0] + "/cgroup.procs")
      #expect(procs.split(separator: "\n").contains(Substring(String(child))))

      var stats = try CgroupStats.read(relativePath: name)
      let settled = try await cgroupEventually {
        stats = try CgroupStats.read(relativePath: name)
        return stats.pidsCurrent == 1 && (stats.cpuUsageCoreNanoSeconds ?? 0) > 0 && (stats.memoryUsageBytes ?? 0) > 0
          && (try? String(contentsOfFile: "/proc/\(child)/comm", encoding: .utf8)).map(trim) == "sleep"
      }
      #expect(settled, "\(stats)")
      #expect(stats.pidsCurrent == 1)
      #expect((stats.cpuUsageCoreNanoSeconds ?? 0) > 0)
      #expect((stats.memoryUsageBytes ?? 0) > 0)
      #expect(stats.memoryWorkingSetBytes != nil)
      #expect((stats.memoryWorkingSetBytes ?? .max) <= (stats.memoryUsageBytes ?? 0))
      #expect(stats.pageFaults != nil)
      #expect(stats.memoryLimitBytes == nil)
      #expect(stats.oomKillCount == 0)
      #expect(abs(stats.timestamp - CgroupStats.now()) < 60 * 1_000_000_000)

      // A cgroup with a task cannot go: EBUSY, retried, then an error.
      await #expect(throws: CgroupError.self) { try await layout.removeCgroup(relativePath: name) }
      #expect(layout.cgroupExists(relativePath: name))

      kill(child, SIGKILL)
      #expect(await Processes.wait(child, timeout: .seconds(20)) == 128 + SIGKILL)
      child = 0
      try await layout.removeCgroup(relativePath: name)
      #expect(!layout.cgroupExists(relativePath: name))
      for directory in directories { #expect(Files.kind(of: directory) == .missing) }
      #expect(throws: CgroupError.notFound(path: name)) { try CgroupStats.read(relativePath: name) }
      // Removing again is fine.
      try await layout.removeCgroup(relativePath: name)
      await #expect(throws: CgroupError.self) { try await layout.removeCgroup(relativePath: "/") }
    } cleanUp: {
      if child > 0 {
        kill(child, SIGKILL)
        _ = await Processes.wait(child, timeout: .seconds(20))
      }
      for directory in made.reversed() { rmdir(directory) }
    }
  }

  /// `ConmonRuntime.update` through real conmon + runc, and stats of the
  /// container's cgroup (the fixture names it "/crio-test-<id>", cgroupfs).
  @Test func updateChangesARunningContainersLimits() async throws {
    try await withFixture { fx in
      let process = try await fx.create(script: "sleep 1000")
      try await fx.runtime.start(id: process.id)
      let path = "/crio-test-" + process.id
      // Right after start runc's init (a multi-threaded Go process) may not
      // have exec'd the command yet: wait for the one task it becomes.
      var stats = try CgroupStats.read(relativePath: path)
      for _ in 0..<500 where stats.pidsCurrent != 1 {
        try await Task.sleep(for: .milliseconds(20))
        stats = try CgroupStats.read(relativePath: path)
      }
      #expect(stats.pidsCurrent == 1, "\(stats)")
      #expect(stats.pidsLimit == 100)
      #expect(stats.memoryLimitBytes == nil)

      try await fx.runtime.update(
        id: process.id,
        resources: Spec.Resources(
          memory: Spec.Memory(limit: 64 << 20), cpu: Spec.CPU(shares: 512, quota: 20000, period: 100_000),
          pids: Spec.Pids(limit: 50)))
      stats = try CgroupStats.read(relativePath: path)
      #expect(stats.memoryLimitBytes == 64 << 20)
      #expect(stats.pidsLimit == 50)
      let layout = try CgroupLayout.current()
      switch layout.version {
      case .v1:
        let cpu = try #require(try layout.directory(for: path, controller: "cpu"))
        #expect(trim(try Files.read(cpu + "/cpu.shares")) == "512")
        #expect(trim(try Files.read(cpu + "/cpu.cfs_quota_us")) == "20000")
      case .v2:
        let dir = try #require(try layout.directory(for: path, controller: "cpu"))
        #expect(trim(try Files.read(dir + "/cpu.weight")) == String(CgroupConversions.cpuWeight(fromShares: 512)))
        #expect(trim(try Files.read(dir + "/cpu.max")) == "20000 100000")
      }

      // Unified entries are checked before runc runs.
      await #expect(throws: RuntimeError.self) {
        try await fx.runtime.update(id: process.id, resources: Spec.Resources(unified: ["../memory.high": "1"]))
      }
      await #expect(throws: RuntimeError.notFound(id: "no-such-container")) {
        try await fx.runtime.update(id: "no-such-container", resources: Spec.Resources(pids: Spec.Pids(limit: 5)))
      }
      _ = try await fx.runtime.stop(id: process.id, timeout: .seconds(0))
      try await fx.runtime.delete(id: process.id)
      #expect(!layout.cgroupExists(relativePath: path))
    }
  }
}
