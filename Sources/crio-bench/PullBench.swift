#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import CRIAPI
import CRIClient
import OCI
import Support
import SwiftProtobuf
import TestFixtures

/// Pull of a ~50 MB, 5-layer gzip image from a loopback registry: wall time,
/// the daemon's RSS growth and peak, MB/s; then the same image fetched and
/// unpacked by skopeo + umoci for comparison.
struct PullBench: AsyncParsableCommand {
  static let configuration = CommandConfiguration(commandName: "pull")

  @Option(help: "Layers in the image.") var layers = 5
  @Option(help: "Compressed MiB per layer (random data does not compress).") var mibPerLayer = 10
  @Option(help: "Pulls to time (each into a fresh daemon).") var runs = 5

  func run() async throws {
    let registry = try await RegistryServer.start()
    defer { Task { await registry.stop() } }
    let (image, totalBytes) = try await BenchImage.pushRandom(to: registry, repository: "bench", layers: layers, mibPerLayer: mibPerLayer)
    print("image: \(layers) layers, \(totalBytes / 1_000_000) MB compressed, \(image.manifestDigest.short)")

    let dir = try Files.makeTemporaryDirectory(prefix: "crio-bench")
    defer { Files.removeTree(dir) }
    let config = try registry.pullConfiguration(in: dir)
    var times: [Duration] = []
    var growth: [Int] = []
    var peaks: [Int] = []
    var cpu: [Int] = []
    for _ in 0..<runs {
      let daemon = try DaemonProcess(config: config)
      try await daemon.waitUntilReady(timeout: .seconds(30))
      let before = kibibytes("VmRSS", daemon.pid)
      let cpuBefore = cpuMilliseconds(daemon.pid)
      let began = ContinuousClock.now
      _ = try await CRIConnection.with(socket: daemon.socket) { cri in
        try await cri.image.pullImage(Runtime_V1_PullImageRequest.with { $0.image.image = "\(registry.host)/bench:1" })
      }
      times.append(ContinuousClock.now - began)
      cpu.append(cpuMilliseconds(daemon.pid) - cpuBefore)
      growth.append(kibibytes("VmRSS", daemon.pid) - before)
      peaks.append(kibibytes("VmHWM", daemon.pid))
      _ = await daemon.stop()
      await daemon.cleanUp()
    }
    report("crio PullImage", times)
    let median = times.sorted()[times.count / 2]
    print("throughput: \(megabytesPerSecond(totalBytes, median)) MB/s (median)")
    // Less noisy than wall time on a shared machine: the daemon's own work.
    print("daemon CPU time per pull (user + system): median \(cpu.sorted()[cpu.count / 2]) ms")
    print("daemon RSS growth during pull: median \(growth.sorted()[growth.count / 2] / 1024) MiB; peak RSS (VmHWM): median \(peaks.sorted()[peaks.count / 2] / 1024) MiB")

    // The same image through skopeo (fetch) + umoci (unpack), if installed.
    guard Files.kind(of: "/usr/bin/skopeo") == .file, Files.kind(of: "/usr/bin/umoci") == .file else {
      print("skopeo/umoci not installed: no comparison (apt-get install skopeo umoci)")
      return
    }
    var peer: [Duration] = []
    for run in 0..<runs {
      let work = dir + "/peer\(run)"
      try Files.makeDirectories(work, mode: 0o700)
      let began = ContinuousClock.now
      let copy = try await Processes.run("/usr/bin/skopeo", [
        "copy", "--src-tls-verify=false", "docker://\(registry.host)/bench:1", "oci:\(work)/layout:bench",
      ])
      let unpack = try await Processes.run("/usr/bin/umoci", ["raw", "unpack", "--image", "\(work)/layout:bench", "\(work)/rootfs"])
      peer.append(ContinuousClock.now - began)
      guard copy.status == 0, unpack.status == 0 else {
        print("skopeo/umoci failed: \(copy.stderr) \(unpack.stderr)")
        return
      }
      Files.removeTree(work)
    }
    report("skopeo copy + umoci raw unpack", peer)
    let ratio = Double(milliseconds(median: times)) / Double(max(1, milliseconds(median: peer)))
    print("ratio crio / (skopeo+umoci): \(Int(ratio * 100))%")
  }
}

/// A process's user + system CPU time so far (/proc/PID/stat), in ms.
private func cpuMilliseconds(_ pid: pid_t) -> Int {
  guard let stat = try? Files.read("/proc/\(pid)/stat"), let end = stat.lastIndex(of: ")") else { return 0 }
  // Fields after the command name: state is the 3rd field, utime the 14th.
  let fields = stat[stat.index(after: end)...].split(separator: " ")
  guard fields.count > 12, let user = Int(fields[11]), let system = Int(fields[12]) else { return 0 }
  return (user + system) * 1000 / sysconf(Int32(_SC_CLK_TCK))
}

private func milliseconds(median samples: [Duration]) -> Int64 {
  let (seconds, attoseconds) = samples.sorted()[samples.count / 2].components
  return seconds * 1000 + attoseconds / 1_000_000_000_000_000
}

private func megabytesPerSecond(_ bytes: Int, _ duration: Duration) -> Int {
  let (seconds, attoseconds) = duration.components
  let micros = max(1, seconds * 1_000_000 + attoseconds / 1_000_000_000_000)
  return Int(Int64(bytes) / micros)
}
