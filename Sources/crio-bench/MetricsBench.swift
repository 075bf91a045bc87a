import ArgumentParser
import CRIAPI
import CRIClient
import Support
import TestFixtures

/// What the metrics cost a CRI call: Version round trips with metrics off
/// and on (every collector), the daemons alternating so drift hits both
/// alike; and how long a scrape takes.
struct MetricsBench: AsyncParsableCommand {
  static let configuration = CommandConfiguration(commandName: "metrics")

  @Option(help: "Version calls per daemon and round.") var calls = 2000
  @Option(help: "Rounds (one daemon of each kind per round).") var rounds = 3

  func run() async throws {
    var latencies: [Bool: [Duration]] = [false: [], true: []]
    var scrapes: [Duration] = []
    var scrapeBytes = 0
    for _ in 0..<rounds {
      for enabled in [false, true] {
        let directory = try Files.makeTemporaryDirectory(prefix: "crio-bench-metrics")
        defer { Files.removeTree(directory) }
        let socket = directory + "/metrics.sock"
        let config = enabled
          ? "[crio.metrics]\nenable_metrics = true\nmetrics_port = \(try RegistryServer.freePort())\nmetrics_socket = \"\(socket)\"\n"
          : ""
        let daemon = try DaemonProcess(config: config)
        try await daemon.waitUntilReady(timeout: .seconds(30))
        let samples = try await CRIConnection.with(socket: daemon.socket) { cri in
          try await versionRoundTrips(cri, calls: calls, warmUp: 100)
        }
        latencies[enabled]! += samples
        if enabled {
          for _ in 0..<50 {
            let began = ContinuousClock.now
            let page = try UnixHTTP.get("/metrics", socket: socket)
            scrapes.append(ContinuousClock.now - began)
            scrapeBytes = page.body.utf8.count
          }
        }
        _ = await daemon.stop()
        await daemon.cleanUp()
      }
    }
    report("Version round trip, metrics off", latencies[false]!, percentiles: [50, 90, 99])
    report("Version round trip, metrics on (all collectors)", latencies[true]!, percentiles: [50, 90, 99])
    report("GET /metrics over its socket (\(scrapeBytes) bytes)", scrapes, percentiles: [50, 90])
  }
}
