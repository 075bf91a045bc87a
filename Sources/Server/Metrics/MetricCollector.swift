import Config

/// The collectors `metrics_collectors` names: CRI-O 1.26's (each family is
/// `container_runtime_crio_<collector>`), plus the few this daemon adds for
/// its operators. A name may carry CRI-O's optional `container_runtime_` and
/// `crio_` prefixes.
enum MetricCollector: String, CaseIterable, Sendable {
  // CRI-O 1.26, in its order; the deprecated names it still serves first.
  case operations
  case operationsLatencyMicrosecondsTotal = "operations_latency_microseconds_total"
  case operationsLatencyMicroseconds = "operations_latency_microseconds"
  case operationsErrors = "operations_errors"
  case imagePullsByDigest = "image_pulls_by_digest"
  case imagePullsByName = "image_pulls_by_name"
  case imagePullsByNameSkipped = "image_pulls_by_name_skipped"
  case imagePullsFailures = "image_pulls_failures"
  case imagePullsSuccesses = "image_pulls_successes"
  case imagePullsLayerSize = "image_pulls_layer_size"
  case imageLayerReuse = "image_layer_reuse"
  case containersOOMTotal = "containers_oom_total"
  case containersOOM = "containers_oom"
  case processesDefunct = "processes_defunct"
  case operationsTotal = "operations_total"
  case operationsLatencySeconds = "operations_latency_seconds"
  case operationsLatencySecondsTotal = "operations_latency_seconds_total"
  case operationsErrorsTotal = "operations_errors_total"
  case imagePullsBytesTotal = "image_pulls_bytes_total"
  case imagePullsSkippedBytesTotal = "image_pulls_skipped_bytes_total"
  case imagePullsFailureTotal = "image_pulls_failure_total"
  case imagePullsSuccessTotal = "image_pulls_success_total"
  case imageLayerReuseTotal = "image_layer_reuse_total"
  case containersOOMCountTotal = "containers_oom_count_total"
  case containersSeccompNotifierCountTotal = "containers_seccomp_notifier_count_total"
  // Later CRI-O releases, served here too.
  case containersEventsDroppedTotal = "containers_events_dropped_total"
  case containersStoppedMonitorCount = "containers_stopped_monitor_count"
  // This daemon's own.
  case containers
  case pods
  case monitorProcesses = "monitor_processes"
  case imagePullThroughput = "image_pull_throughput_bytes_per_second"
  /// The standard `process_*` family every Go daemon (CRI-O too) exposes
  /// through its default registry: resident memory, descriptors, CPU.
  case process

  /// The family's full name.
  var metricName: String {
    self == .process ? "process" : CrioMetrics.prefix + rawValue
  }

  /// A `metrics_collectors` entry, with or without CRI-O's prefixes; nil
  /// for a name no collector has.
  init?(configured name: String) {
    var stripped = Substring(name)
    if stripped.hasPrefix("container_runtime_") { stripped = stripped.dropFirst("container_runtime_".count) }
    if stripped.hasPrefix("crio_") { stripped = stripped.dropFirst("crio_".count) }
    self.init(rawValue: String(stripped))
  }

  /// The configured collectors, and the names that match none (which CRI-O
  /// ignores; the daemon logs them).
  static func parse(_ names: [String]) -> (collectors: Set<MetricCollector>, unknown: [String]) {
    var collectors = Set<MetricCollector>()
    var unknown: [String] = []
    for name in names {
      if let collector = MetricCollector(configured: name) { collectors.insert(collector) } else { unknown.append(name) }
    }
    return (collectors, unknown)
  }
}
