import Config
import Logging
import enum CoreMetrics.MetricsSystem
import Prometheus
import Support
import Synchronization

/// The daemon's Prometheus metrics, named, typed and labelled as CRI-O 1.26
/// serves them (`container_runtime_crio_*`, its deprecated names included,
/// since dashboards still read them), plus a few of this daemon's own.
/// Only the configured collectors record anything: the others cost a
/// nil check. Counters and histograms are swift-prometheus's (atomics, no
/// lock on the hot path once a label set exists); CRI-O's two summaries are
/// `LatencySummary`, which swift-prometheus lacks.
final class CrioMetrics: Sendable {
  static let prefix = "container_runtime_crio_"

  let collectors: Set<MetricCollector>
  private let registry = PrometheusCollectorRegistry()
  private let latencySeconds: LatencySummary?
  private let latencyMicroseconds: LatencySummary?
  /// Handles of labelled series made so far, by family and label values:
  /// the registry's own lookup takes a lock and builds a key each time.
  private let counters = Mutex<[String: Counter]>([:])
  private let gauges = Mutex<[String: Gauge]>([:])
  private let layerSizes: ValueHistogram?

  /// Makes swift-metrics' API (`Counter(label:)`, …) record into this
  /// registry, for any library of the daemon that reports through it. Once
  /// per process, by the daemon when metrics are on.
  func bootstrapMetricsSystem() {
    MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
  }

  /// No collector at all: what the daemon records with when metrics are off.
  static let disabled = CrioMetrics(collectors: [])

  init(collectors: Set<MetricCollector>) {
    self.collectors = collectors
    latencySeconds = collectors.contains(.operationsLatencySecondsTotal)
      ? LatencySummary(
        name: Self.prefix + "operations_latency_seconds_total", label: "operation",
        help: "Latency in seconds of CRI-O operations. Broken down by operation type.")
      : nil
    latencyMicroseconds = collectors.contains(.operationsLatencyMicrosecondsTotal)
      ? LatencySummary(
        name: Self.prefix + "operations_latency_microseconds_total", label: "operation_type",
        help: "[DEPRECATED:  in favour of `operations_latency_seconds_total`] Latency in microseconds of CRI-O operations. Broken down by operation type.")
      : nil
    layerSizes = collectors.contains(.imagePullsLayerSize)
      ? registry.makeValueHistogram(
        descriptor: Self.descriptor(Self.prefix + "image_pulls_layer_size", help: "Bytes transferred by CRI-O image pulls per layer"),
        labels: [], buckets: [1000, 1e6, 1e7, 5e7, 1e8, 2e8, 3e8, 4e8, 5e8, 1e9, 1e10])
      : nil
    if collectors.contains(.containersOOMTotal) {
      _ = counter(.containersOOMTotal, help: Help.containersOOMTotal)
    }
    if collectors.contains(.imagePullsSuccessTotal) {
      _ = counter(.imagePullsSuccessTotal, help: Help.imagePullsSuccessTotal)
    }
  }

  // MARK: - recording

  /// One finished CRI call, as CRI-O's unary interceptor records it:
  /// `operation` is the bare method name (`RunPodSandbox`).
  func recordOperation(_ operation: String, duration: Duration, failed: Bool) {
    let seconds = duration.seconds
    increment(.operations, labels: [("operation_type", operation)], help: Help.operations)
    increment(.operationsTotal, labels: [("operation", operation)], help: Help.operationsTotal)
    setGauge(.operationsLatencyMicroseconds, labels: [("operation_type", operation)], to: seconds * 1e6, help: Help.latencyMicroseconds)
    setGauge(.operationsLatencySeconds, labels: [("operation", operation)], to: seconds, help: Help.latencySeconds)
    latencySeconds?.observe(seconds, label: operation)
    latencyMicroseconds?.observe(seconds * 1e6, label: operation)
    if failed {
      increment(.operationsErrors, labels: [("operation_type", operation)], help: Help.operationsErrors)
      increment(.operationsErrorsTotal, labels: [("operation", operation)], help: Help.operationsErrorsTotal)
    }
  }

  /// A layer (or other blob) of `image` was downloaded whole.
  func recordPulledBlob(image: String, digest: String, mediaType: String, size: Int64, imageSize: Int64) {
    increment(
      .imagePullsByDigest, labels: [("name", image), ("digest", digest), ("mediatype", mediaType), ("size", "\(size)")],
      by: size, help: Help.pullsByDigest)
    increment(.imagePullsByName, labels: [("name", image), ("size", "\(imageSize)")], by: size, help: Help.pullsByName)
    increment(.imagePullsBytesTotal, labels: [("mediatype", mediaType), ("size", Self.sizeBucket(size))], by: size, help: Help.pullsBytesTotal)
    layerSizes?.record(Double(size))
  }

  /// A layer `image` needs was already on disk.
  func recordReusedLayer(image: String, digest: String) {
    let name = "\(image)@\(digest)"
    increment(.imageLayerReuse, labels: [("name", name)], help: Help.layerReuse)
    increment(.imageLayerReuseTotal, labels: [("name", name)], help: Help.layerReuseTotal)
  }

  /// `image` was already stored whole: nothing of its `size` bytes was fetched.
  func recordSkippedPull(image: String, size: Int64) {
    increment(.imagePullsByNameSkipped, labels: [("name", image)], by: size, help: Help.pullsByNameSkipped)
    increment(.imagePullsSkippedBytesTotal, labels: [("size", Self.sizeBucket(size))], by: size, help: Help.pullsSkippedBytes)
  }

  func recordPullSuccess(image: String, downloaded: Int64, duration: Duration) {
    increment(.imagePullsSuccesses, labels: [("name", image)], help: Help.pullsSuccesses)
    increment(.imagePullsSuccessTotal, labels: [], help: Help.imagePullsSuccessTotal)
    if downloaded > 0, duration > .zero {
      setGauge(
        .imagePullThroughput, labels: [], to: Double(downloaded) / duration.seconds,
        help: "Bytes per second downloaded by the last image pull that downloaded anything")
    }
  }

  /// `reason` is one of CRI-O's labels (`PullFailureReason`).
  func recordPullFailure(image: String, reason: String) {
    increment(.imagePullsFailures, labels: [("name", image), ("error", reason)], help: Help.pullsFailures)
    increment(.imagePullsFailureTotal, labels: [("error", reason)], help: Help.pullsFailureTotal)
  }

  /// The kernel's OOM killer ended the container with this (reserved) name.
  func recordOOMKill(container name: String) {
    increment(.containersOOMTotal, labels: [], help: Help.containersOOMTotal)
    increment(.containersOOM, labels: [("name", name)], help: Help.containersOOM)
    increment(.containersOOMCountTotal, labels: [("name", name)], help: Help.containersOOMCount)
  }

  /// The container's monitor died without recording its exit.
  func recordLostMonitor(container name: String) {
    increment(
      .containersStoppedMonitorCount, labels: [("name", name)],
      help: "Amount of containers stopped because their monitor process exited")
  }

  /// A GetContainerEvents subscriber fell behind and lost these events.
  func recordDroppedEvents(_ count: Int) {
    increment(.containersEventsDroppedTotal, labels: [], by: Int64(count), help: "Amount of container events dropped")
  }

  // MARK: - scraping

  /// The exposition of everything recorded, plus the values read at scrape
  /// time (`facts`), in the Prometheus text format (version 0.0.4).
  func exposition(_ facts: ScrapeFacts) -> [UInt8] {
    setGauge(.processesDefunct, labels: [], to: Double(facts.defunctProcesses), help: "Total number of defunct processes in the node")
    setGauge(
      .monitorProcesses, labels: [], to: Double(facts.monitorProcesses),
      help: "Container monitor processes (conmon) of this daemon's containers that are alive")
    for (state, count) in facts.containersByState {
      setGauge(.containers, labels: [("state", state)], to: Double(count), help: "Containers by state")
    }
    for (state, count) in facts.podsByState {
      setGauge(.pods, labels: [("state", state)], to: Double(count), help: "Pod sandboxes by state")
    }
    if collectors.contains(.process), let process = facts.process {
      processGauge("process_resident_memory_bytes", process.residentBytes, "Resident memory size in bytes.")
      processGauge("process_virtual_memory_bytes", process.virtualBytes, "Virtual memory size in bytes.")
      processGauge("process_open_fds", process.openDescriptors, "Number of open file descriptors.")
      processGauge("process_max_fds", process.maxDescriptors, "Maximum number of open file descriptors.")
      processGauge("process_start_time_seconds", process.startTimeSeconds, "Start time of the process since unix epoch in seconds.")
      processGauge("process_cpu_seconds_total", process.cpuSeconds, "Total user and system CPU time spent in seconds.")
    }
    var buffer: [UInt8] = []
    buffer.reserveCapacity(16 << 10)
    registry.emit(into: &buffer)
    latencySeconds?.emit(into: &buffer)
    latencyMicroseconds?.emit(into: &buffer)
    return buffer
  }

  /// `process_cpu_seconds_total` is a counter in Go's collector; the others
  /// are gauges. All are set from /proc at each scrape: the counter by a
  /// reset and an increment (its value only grows anyway).
  private func processGauge(_ name: String, _ value: Double, _ help: String) {
    let descriptor = Self.descriptor(name, help: help)
    if name.hasSuffix("_total") {
      let counter = Self.cached(in: counters, key: name) { registry.makeCounter(descriptor: descriptor, labels: []) }
      counter.reset()
      counter.increment(by: value)
    } else {
      Self.cached(in: gauges, key: name) { registry.makeGauge(descriptor: descriptor, labels: []) }.set(to: value)
    }
  }

  // MARK: - series

  private func increment(_ collector: MetricCollector, labels: [(String, String)], by amount: Int64 = 1, help: String) {
    guard collectors.contains(collector) else { return }
    counter(collector, labels: labels, help: help).increment(by: amount)
  }

  private func counter(_ collector: MetricCollector, labels: [(String, String)] = [], help: String) -> Counter {
    Self.cached(in: counters, key: Self.seriesKey(collector, labels)) {
      registry.makeCounter(descriptor: Self.descriptor(collector.metricName, help: help), labels: labels)
    }
  }

  private func setGauge(_ collector: MetricCollector, labels: [(String, String)], to value: Double, help: String) {
    guard collectors.contains(collector) else { return }
    Self.cached(in: gauges, key: Self.seriesKey(collector, labels)) {
      registry.makeGauge(descriptor: Self.descriptor(collector.metricName, help: help), labels: labels)
    }.set(to: value)
  }

  /// The series handle cached under `key`, made (and kept) the first time.
  private static func cached<Handle>(
    in cache: borrowing Mutex<[String: Handle]>, key: String, make: () -> Handle
  ) -> Handle {
    cache.withLock { handles in
      if let existing = handles[key] { return existing }
      let made = make()
      handles[key] = made
      return made
    }
  }

  private static func seriesKey(_ collector: MetricCollector, _ labels: [(String, String)]) -> String {
    var key = collector.rawValue
    for (_, value) in labels {
      key += "\u{0}"
      key += value
    }
    return key
  }

  /// A full name as it is: the descriptor's parts would only be joined again.
  private static func descriptor(_ name: String, help: String) -> MetricNameDescriptor {
    MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
  }

  /// CRI-O's `size` label for byte counts: the largest threshold exceeded.
  static func sizeBucket(_ size: Int64) -> String {
    let thresholds: [(Int64, String)] = [
      (10_000_000_000, ">10 GiB"), (1_000_000_000, ">1 GiB"), (500_000_000, ">500 MiB"), (400_000_000, ">400 MiB"),
      (300_000_000, ">300 MiB"), (200_000_000, ">200 MiB"), (100_000_000, ">100 MiB"), (50_000_000, ">50 MiB"),
      (10_000_000, ">10 MiB"), (1_000_000, ">1 MiB"), (1_000, ">1 KiB"),
    ]
    return thresholds.first { size > $0.0 }?.1 ?? ">0 B"
  }

  /// CRI-O's help texts, word for word.
  private enum Help {
    static let operations =
      "[DEPRECATED: in favour of `operations_total`] Cumulative number of CRI-O operations by operation type."
    static let operationsTotal = "Cumulative number of CRI-O operations by operation type."
    static let latencyMicroseconds =
      "[DEPRECATED: in favour of `operations_latency_seconds`] Latency in microseconds of individual CRI calls for CRI-O operations. Broken down by operation type."
    static let latencySeconds =
      "Latency in seconds of individual CRI calls for CRI-O operations. Broken down by operation type."
    static let operationsErrors =
      "[DEPRECATED: in favour of `operations_errors_total`] Cumulative number of CRI-O operation errors by operation type."
    static let operationsErrorsTotal = "Cumulative number of CRI-O operation errors by operation type."
    static let pullsByDigest =
      "[DEPRECATED: in favour of `image_pulls_bytes_total`] Bytes transferred by CRI-O image pulls by digest"
    static let pullsByName = "[DEPRECATED: in favour of `image_pulls_bytes_total`] Bytes transferred by CRI-O image pulls by name"
    static let pullsBytesTotal = "Bytes transferred by CRI-O image pulls"
    static let pullsByNameSkipped =
      "[DEPRECATED: in favour of `image_pulls_skipped_bytes_total`] Bytes skipped by CRI-O image pulls by name"
    static let pullsSkippedBytes = "Bytes skipped by CRI-O image pulls"
    static let pullsFailures =
      "[DEPRECATED: in favour of `image_pulls_failure_total`] Cumulative number of CRI-O image pull failures by error."
    static let pullsFailureTotal = "Cumulative number of CRI-O image pull failures by error."
    static let pullsSuccesses =
      "[DEPRECATED: in favour of `image_pulls_success_total`] Cumulative number of CRI-O image pull successes."
    static let imagePullsSuccessTotal = "Cumulative number of CRI-O image pull successes."
    static let layerReuse =
      "[DEPRECATED: in favour of `image_layer_reuse_total`] Reused (not pulled) local image layer count by name"
    static let layerReuseTotal = "Reused (not pulled) local image layer count by name"
    static let containersOOMTotal = "Amount of containers killed because they ran out of memory (OOM)"
    static let containersOOM =
      "[DEPRECATED: in favour of `containers_oom_count_total`] Amount of containers killed because they ran out of memory (OOM) by their name"
    static let containersOOMCount = "Amount of containers killed because they ran out of memory (OOM) by their name"
  }
}

/// What a scrape reads at that moment rather than counts as it happens.
struct ScrapeFacts: Sendable {
  var defunctProcesses = 0
  var monitorProcesses = 0
  var containersByState: [(String, Int)] = []
  var podsByState: [(String, Int)] = []
  var process: ProcessFacts?
}

extension CrioMetrics {
  /// The collectors `[crio.metrics]` enables: none unless `enable_metrics`.
  /// Names that match no collector are logged (CRI-O ignores them silently).
  convenience init(config: MetricsConfig, logger: Logger) {
    guard config.enableMetrics else {
      self.init(collectors: [])
      return
    }
    let (collectors, unknown) = MetricCollector.parse(config.metricsCollectors)
    if !unknown.isEmpty {
      logger.warning(
        "metrics_collectors names collectors that do not exist; they are ignored",
        metadata: ["unknown": "\(unknown.joined(separator: ", "))"])
    }
    self.init(collectors: collectors)
  }
}
