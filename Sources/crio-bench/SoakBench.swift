#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import CRIAPI
import CRIClient
import Support
import SwiftProtobuf
import TestFixtures

/// A soak: many pod + 2-container cycles on a CNI bridge, then a leak check
/// of everything the daemon makes (mounts, pins, cgroups, addresses,
/// veths, processes, runc state) and of the daemon itself (open
/// descriptors, RSS). Prints figures; not part of the test suite.
struct SoakBench: AsyncParsableCommand {
  static let configuration = CommandConfiguration(commandName: "soak")

  @Option(help: "Pod + 2-container cycles.") var cycles = 1000
  @Option(help: "Cycles between progress lines.") var every = 100

  func run() async throws {
    try await RegistryServer.withRunning { registry in
      let image = "\(registry.host)/soak:1"
      try await BenchImage.push(to: registry, repository: "soak", applets: ["sh", "sleep", "true"], cmd: ["/bin/sleep", "100000"])
      let dir = try Files.makeTemporaryDirectory(prefix: "crio-soak")
      defer { Files.removeTree(dir) }
      let random = UInt32.random(in: 0...UInt32.max)
      let bridge = "soak" + String(random, radix: 16)
      let subnet = "10.\(200 + random % 50).\((random >> 8) % 256)"
      let daemon = try DaemonProcess(config: try registry.pullConfiguration(in: dir)) { directory in
        try Files.write(directory + "/cni/net.d/10-soak.conflist", """
          {"cniVersion": "1.0.0", "name": "soak", "plugins": [
            {"type": "bridge", "bridge": "\(bridge)", "isGateway": true, "ipMasq": false,
             "ipam": {"type": "host-local", "dataDir": "\(directory)/ipam", "ranges": [[{"subnet": "\(subnet).0/24"}]]}},
            {"type": "portmap", "capabilities": {"portMappings": true}}
          ]}
          """)
      }
      try await withCleanUp {
        try await daemon.waitUntilReady(timeout: .seconds(30))
        try await CRIConnection.with(socket: daemon.socket) { cri in
          _ = try await cri.image.pullImage(.with { $0.image.image = image })
          // One cycle first, so the baseline has every lazily made thing.
          try await cycle(cri, image: image, index: -1)
          let baseline = (rss: kibibytes("VmRSS", daemon.pid), fds: openDescriptors(daemon.pid))
          print("baseline: RSS \(baseline.rss / 1024) MiB, \(baseline.fds) open descriptors")
          let began = ContinuousClock.now
          var durations: [Duration] = []
          for index in 0..<cycles {
            let start = ContinuousClock.now
            try await cycle(cri, image: image, index: index)
            durations.append(ContinuousClock.now - start)
            if (index + 1) % every == 0 {
              print("\(index + 1) cycles: RSS \(kibibytes("VmRSS", daemon.pid) / 1024) MiB (anonymous \(kibibytes("RssAnon", daemon.pid) / 1024) MiB), \(openDescriptors(daemon.pid)) descriptors, \(milliseconds(ContinuousClock.now - began)) ms")
              fflush(nil)  // progress as it comes, also into a file
            }
          }
          report("one cycle (run pod, create+start 2 containers, stop, remove)", durations, percentiles: [50, 90, 99])
          print("after \(cycles) cycles: RSS \(kibibytes("VmRSS", daemon.pid) / 1024) MiB (baseline \(baseline.rss / 1024)), \(openDescriptors(daemon.pid)) descriptors (baseline \(baseline.fds))")
          let pods = try await cri.runtime.listPodSandbox(.init()).items.count
          let containers = try await cri.runtime.listContainers(.init()).containers.count
          let addresses = ((try? Files.list(daemon.directory + "/ipam/soak")) ?? []).filter { $0.hasPrefix(subnet) }
          let veths = (try? await Processes.run("/sbin/ip", ["-o", "link", "show", "master", bridge]))?.stdout.split(separator: "\n").count ?? 0
          let runc = (try? Files.list(daemon.directory + "/runc"))?.count ?? 0
          let pins = ["netns", "ipcns", "utsns"].reduce(0) { $0 + ((try? Files.list(daemon.directory + "/ns/" + $1))?.count ?? 0) }
          let cgroups = MountInfoEntry.current().filter { $0.filesystemType.hasPrefix("cgroup") }.reduce(0) { count, mount in
            count + (((try? Files.list(mount.mountPoint + "/crio")) ?? []).filter { $0.hasPrefix("crio-") }.count)
          }
          print("""
            leak check: pods \(pods), containers \(containers), mounts \(daemon.mounts().count), pins \(pins), \
            runc states \(runc), crio cgroups under /crio (all daemons) \(cgroups), addresses \(addresses.count), \
            veths \(veths), processes \(daemon.processes().count)
            """)
        }
      } cleanUp: {
        await daemon.cleanUp()
        _ = try? await Processes.run("/sbin/ip", ["link", "del", bridge])
      }
    }
  }

  func cycle(_ cri: CRIConnection, image: String, index: Int) async throws {
    var steps: [(String, Duration)] = []
    var mark = ContinuousClock.now
    func step(_ name: String) {
      let now = ContinuousClock.now
      steps.append((name, now - mark))
      mark = now
    }
    defer {
      // A slow cycle says which call was slow.
      if steps.contains(where: { $0.1 > .seconds(2) }) {
        print("slow cycle \(index): " + steps.map { "\($0.0) \(milliseconds($0.1)) ms" }.joined(separator: ", "))
      }
    }
    let pod = try await cri.runtime.runPodSandbox(.with {
      $0.config.metadata.name = "soak-\(index)"
      $0.config.metadata.namespace = "soak"
      $0.config.metadata.uid = "uid-soak-\(index)"
      $0.config.linux.securityContext.namespaceOptions.pid = index % 2 == 0 ? .pod : .container
    }).podSandboxID
    step("run pod")
    var containers: [String] = []
    for name in ["a", "b"] {
      let id = try await cri.runtime.createContainer(.with {
        $0.podSandboxID = pod
        $0.config.metadata.name = name
        $0.config.image.image = image
        // Ends on SIGTERM even as its PID namespace's PID 1.
        $0.config.command = ["/bin/sh", "-c", "trap 'exit 0' TERM; sleep 100000 & wait"]
        $0.config.linux.securityContext.namespaceOptions.pid = index % 2 == 0 ? .pod : .container
      }).containerID
      step("create \(name)")
      _ = try await cri.runtime.startContainer(.with { $0.containerID = id })
      step("start \(name)")
      containers.append(id)
    }
    // As kubelet does, the containers first (here without a grace period:
    // a shell that is its PID namespace's PID 1 ignores SIGTERM until its
    // trap is set, and one just started may not have set it yet).
    for id in containers { _ = try await cri.runtime.stopContainer(.with { $0.containerID = id; $0.timeout = 0 }) }
    step("stop containers")
    _ = try await cri.runtime.stopPodSandbox(.with { $0.podSandboxID = pod })
    step("stop pod")
    _ = try await cri.runtime.removePodSandbox(.with { $0.podSandboxID = pod })
    step("remove pod")
  }

  func openDescriptors(_ pid: pid_t) -> Int {
    (try? Files.list("/proc/\(pid)/fd"))?.count ?? -1
  }
}
