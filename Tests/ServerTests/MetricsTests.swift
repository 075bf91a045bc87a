import Config
import Registry
import Testing

@testable import Server

/// The pure parts of the metrics: collector names, CRI-O's labels, the
/// summary's quantiles and the exposition they make.
@Suite struct MetricsUnitTests {
  @Test func everyConfiguredCollectorIsServedAndPrefixesAreOptional() {
    let (collectors, unknown) = MetricCollector.parse(MetricsConfig.allCollectors)
    #expect(unknown.isEmpty)
    #expect(collectors == Set(MetricCollector.allCases), "the default list and the served collectors agree")
    #expect(MetricCollector(configured: "container_runtime_crio_operations_total") == .operationsTotal)
    #expect(MetricCollector(configured: "crio_operations") == .operations)
    #expect(MetricCollector(configured: "resources_stalled_at_stage") == nil)
  }

  @Test(arguments: [
    (Int64(0), ">0 B"), (1_000, ">0 B"), (1_001, ">1 KiB"), (1_000_001, ">1 MiB"), (60_000_000, ">50 MiB"),
    (450_000_000, ">400 MiB"), (2_000_000_000, ">1 GiB"), (20_000_000_000, ">10 GiB"),
  ])
  func sizeLabelsAreCRIOs(size: Int64, label: String) {
    #expect(CrioMetrics.sizeBucket(size) == label)
  }

  @Test func pullFailuresAreLabelledWithRegistryErrorCodes() {
    #expect(PullFailureReason.label(for: RegistryError.notFound(what: "manifest x")) == "MANIFEST_UNKNOWN")
    #expect(PullFailureReason.label(for: RegistryError.unauthorized(registry: "r", detail: "")) == "UNAUTHORIZED")
    #expect(PullFailureReason.label(for: RegistryError.unavailable(host: "r", detail: "connection refused")) == "CONNECTION_REFUSED")
    #expect(PullFailureReason.label(for: RegistryError.noProgress(seconds: 5)) == "CONNECTION_TIMEOUT")
    #expect(PullFailureReason.label(for: CancellationError()) == "UNKNOWN")
  }

  @Test func summaryQuantilesAreNearestRankOverTheWindow() {
    #expect(LatencySummary.quantile(0.5, of: [1, 2, 3, 4]) == 2)
    #expect(LatencySummary.quantile(0.99, of: Array(1...100).map(Double.init)) == 99)
    #expect(LatencySummary.quantile(0.5, of: []).isNaN)
    let summary = LatencySummary(name: "s", label: "operation", help: "h", window: 3)
    for value in [10.0, 1, 2, 3] { summary.observe(value, label: "Op") }
    var text: [UInt8] = []
    summary.emit(into: &text)
    // The window keeps the last three; sum and count keep everything.
    #expect(String(decoding: text, as: UTF8.self) == """
      # HELP s h
      # TYPE s summary
      s{operation="Op",quantile="0.5"} 2.0
      s{operation="Op",quantile="0.9"} 3.0
      s{operation="Op",quantile="0.99"} 3.0
      s_sum{operation="Op"} 16.0
      s_count{operation="Op"} 4

      """)
  }

  @Test func onlyEnabledCollectorsRecord() {
    let metrics = CrioMetrics(collectors: [.operationsTotal, .containersOOMTotal])
    metrics.recordOperation("Version", duration: .milliseconds(2), failed: true)
    metrics.recordOOMKill(container: "k8s_a_b_c_d_0")
    let text = String(decoding: metrics.exposition(ScrapeFacts()), as: UTF8.self)
    #expect(text.contains(#"container_runtime_crio_operations_total{operation="Version"} 1"#))
    #expect(text.contains("container_runtime_crio_containers_oom_total 1"))
    #expect(!text.contains("errors"), "operations_errors_total is not enabled")
    #expect(!text.contains("k8s_a_b_c_d_0"), "containers_oom_count_total is not enabled")
    #expect(String(decoding: CrioMetrics.disabled.exposition(ScrapeFacts()), as: UTF8.self).isEmpty)
  }
}
