#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import CRIAPI
import CRIClient
import Support

/// Prints figures for the daemon; never asserts on them.
@main
struct Bench: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "crio-bench",
    abstract: "Benchmarks of the crio daemon (start-up, memory, RPC latency).",
    subcommands: [
      FoundationBench.self, PullBench.self, LifecycleBench.self, NetworkBench.self, StreamingBench.self,
      ExecSyncMemoryBench.self, SupervisionBench.self, SoakBench.self, MetricsBench.self, FootprintBench.self,
      PodMonitorBench.self, HotCodeProfile.self,
    ],
    defaultSubcommand: FoundationBench.self
  )
}

/// Cold start to socket ready, idle RSS, and Version round trips.
struct FoundationBench: AsyncParsableCommand {
  static let configuration = CommandConfiguration(commandName: "foundation")

  @Option(help: "Daemon starts to time.") var starts = 20
  @Option(help: "Version calls to time.") var calls = 1000

  func run() async throws {
    print("binary: \(CrioBinary.path)")
    report("cold start to socket ready", try await coldStarts(starts))

    let daemon = try DaemonProcess()
    defer { Task { await daemon.cleanUp() } }
    try await daemon.waitUntilReady(timeout: .seconds(30))
    try await Task.sleep(for: .seconds(1))
    print("idle RSS after start: \(rssMiB(daemon.pid)) MiB")

    let latencies = try await CRIConnection.with(socket: daemon.socket) { cri in
      try await versionRoundTrips(cri, calls: calls, warmUp: 50)
    }
    report("Version round trip (\(calls) calls)", latencies, percentiles: [50, 90, 99])
    print("RSS after \(calls + 50) calls: \(rssMiB(daemon.pid)) MiB")
    _ = await daemon.stop()
    await daemon.cleanUp()
  }
}

/// Times `count` daemon starts, each from exec to its socket answering.
func coldStarts(_ count: Int) async throws -> [Duration] {
  var samples: [Duration] = []
  for _ in 0..<count {
    let began = ContinuousClock.now
    let daemon = try DaemonProcess()
    try await daemon.waitUntilReady(timeout: .seconds(30), settled: false)
    samples.append(ContinuousClock.now - began)
    _ = await daemon.stop()
    await daemon.cleanUp()
  }
  return samples
}

/// Times `calls` Version round trips on one connection, after `warmUp`
/// untimed ones (kubelet keeps its connection open and warm).
func versionRoundTrips(_ cri: CRIConnection, calls: Int, warmUp: Int) async throws -> [Duration] {
  for _ in 0..<warmUp { _ = try await cri.runtime.version(Runtime_V1_VersionRequest()) }
  var samples: [Duration] = []
  samples.reserveCapacity(calls)
  for _ in 0..<calls {
    let began = ContinuousClock.now
    _ = try await cri.runtime.version(Runtime_V1_VersionRequest())
    samples.append(ContinuousClock.now - began)
  }
  return samples
}

func report(_ name: String, _ samples: [Duration], percentiles: [Int] = [50, 90]) {
  let sorted = samples.sorted()
  let figures = percentiles.map { p in
    let index = min(sorted.count - 1, (sorted.count * p) / 100)
    return "p\(p) \(milliseconds(sorted[index])) ms"
  }
  print("\(name): " + figures.joined(separator: ", ") + ", min \(milliseconds(sorted.first!)) ms, n=\(samples.count)")
}

func milliseconds(_ duration: Duration) -> String {
  let (seconds, attoseconds) = duration.components
  let micros = seconds * 1_000_000 + attoseconds / 1_000_000_000_000
  let whole = micros / 1000
  let fraction = micros % 1000
  return "\(whole)." + String(repeating: "0", count: 3 - String(fraction).count) + String(fraction)
}

/// Resident set size from /proc/<pid>/status (VmRSS), in MiB with one decimal.
func rssMiB(_ pid: pid_t) -> String {
  let kib = kibibytes("VmRSS", pid)
  return kib == 0 ? "?" : "\(kib / 1024).\((kib % 1024) * 10 / 1024)"
}

/// A "<field>: <n> kB" line of /proc/<pid>/<file> (status: VmRSS, VmHWM;
/// smaps_rollup: Pss), in KiB; 0 when it cannot be read.
func kibibytes(_ field: String, _ pid: pid_t, in file: String = "status") -> Int {
  guard let text = try? Files.read("/proc/\(pid)/\(file)"),
    let line = text.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }),
    let value = Int(line.split(separator: " ").dropFirst().first ?? "")
  else { return 0 }
  return value
}
