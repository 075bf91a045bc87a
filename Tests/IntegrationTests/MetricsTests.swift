#if canImport(Glibc)
import Glibc
#endif
import CRIAPI
import CRIClient
import FoundationEssentials
import GRPCCore
import Support
import TestFixtures
import Testing

/// The Prometheus endpoint of `[crio.metrics]`, scraped as Prometheus does
/// and parsed by prometheus_client's parser (Python/metrics_scrape.py), not
/// by the daemon's own code: CRI-O's names, types and labels, moved by what
/// happened.
@Suite struct MetricsTests {
  static func metricsConfig(port: Int, socket: String, extra: String = "") -> String {
    """
    [crio.metrics]
    enable_metrics = true
    metrics_port = \(port)
    metrics_socket = "\(socket)"
    \(extra)
    """
  }

  @Test func countersMoveWithPullsLifecyclesFailuresAndOOMKills() async throws {
    let port = try RegistryServer.freePort()
    let socketDirectory = try Files.makeTemporaryDirectory(prefix: "crio-metrics")
    defer { Files.removeTree(socketDirectory) }
    let socket = socketDirectory + "/metrics.sock"
    let kit = ContainerTests()
    try await kit.withPod(extraConfig: Self.metricsConfig(port: port, socket: socket)) { cri, daemon, pod in
      let url = "http://127.0.0.1:\(port)/metrics"
      let before = try await Scrape.fetch(url)
      // The pull withPod made: one success, every layer's bytes, no reuse.
      #expect(before.value("container_runtime_crio_image_pulls_success_total") == 1)
      #expect(before.sum("container_runtime_crio_image_pulls_bytes_total") > 0)
      #expect(before.value("container_runtime_crio_image_pulls_layer_size_count") ?? 0 >= 1)
      #expect(before.type(of: "container_runtime_crio_image_pulls_layer_size") == "histogram")
      #expect(before.type(of: "container_runtime_crio_operations_latency_seconds_total") == "summary")
      #expect(before.value("container_runtime_crio_operations_total", ["operation": "PullImage"]) == 1)
      #expect(before.value("process_resident_memory_bytes") ?? 0 > Double(1 << 20))
      #expect(before.value("container_runtime_crio_processes_defunct") != nil)
      #expect(before.value("container_runtime_crio_pods", ["state": "ready"]) == 1)

      // The same image again: every layer reused, nothing downloaded.
      let images = try await cri.image.listImages(Runtime_V1_ListImagesRequest()).images
      let stored = try #require(images.first { $0.repoTags.contains { $0.hasSuffix("/busybox:1") } })
      _ = try await cri.image.pullImage(.with { $0.image.image = stored.repoTags[0] })
      let again = try await Scrape.fetch(url)
      let layers = before.value("container_runtime_crio_image_pulls_layer_size_count") ?? 0
      #expect(again.sum("container_runtime_crio_image_layer_reuse_total") - before.sum("container_runtime_crio_image_layer_reuse_total") == layers * 2,
        "both the deprecated and the new reuse counter count each layer")
      #expect(again.sum("container_runtime_crio_image_pulls_skipped_bytes_total") >= Double(stored.size))
      #expect(again.value("container_runtime_crio_image_pulls_success_total") == 2)
      #expect(again.sum("container_runtime_crio_image_pulls_bytes_total") == before.sum("container_runtime_crio_image_pulls_bytes_total"))

      // Two containers through their whole lifecycle, one OOM-killed.
      let plain = try await kit.create(cri, pod: pod, ContainerTests.container("plain", "sleep 1000"))
      try await kit.start(cri, plain)
      #expect(try await Scrape.fetch(url).value("container_runtime_crio_monitor_processes") == 1)
      _ = try await cri.runtime.stopContainer(.with { $0.containerID = plain; $0.timeout = 0 })
      var hungry = ContainerTests.container("hungry", "dd if=/dev/zero of=/dev/null bs=64M count=1")
      hungry.linux.resources = .with { $0.memoryLimitInBytes = 16 << 20; $0.memorySwapLimitInBytes = 16 << 20 }
      let oom = try await kit.create(cri, pod: pod, hungry)
      try await kit.start(cri, oom)
      #expect(try await kit.waitUntilExited(cri, oom).reason == "OOMKilled")
      // What the inspection API calls it, the metrics will label it.
      let described = try UnixHTTP.get("/containers/\(oom)", socket: daemon.socket).body
      for id in [plain, oom] { _ = try await cri.runtime.removeContainer(.with { $0.containerID = id }) }
      // A failed call and a failed pull.
      await #expect(throws: RPCError.self) { try await cri.runtime.containerStatus(.with { $0.containerID = "0123456789ab" }) }
      let pulled = try await cri.image.listImages(Runtime_V1_ListImagesRequest()).images.flatMap(\.repoTags)
      let registry = try #require(pulled.first { $0.hasSuffix("/busybox:1") }?.dropLast("/busybox:1".count))
      await #expect(throws: RPCError.self) {
        try await cri.image.pullImage(.with { $0.image.image = "\(registry)/busybox:absent" })
      }

      let after = try await Scrape.fetch("http://localhost/metrics", unixSocket: socket)
      func moved(_ name: String, _ labels: [String: String] = [:]) -> Double {
        (after.value(name, labels) ?? 0) - (before.value(name, labels) ?? 0)
      }
      for operation in ["CreateContainer", "StartContainer", "RemoveContainer"] {
        #expect(moved("container_runtime_crio_operations_total", ["operation": operation]) == 2, "\(operation)")
        // CRI-O's deprecated names are served beside the new ones.
        #expect(moved("container_runtime_crio_operations_total", ["operation_type": operation]) == 2, "\(operation)")
      }
      #expect(moved("container_runtime_crio_operations_total", ["operation": "StopContainer"]) == 1)
      #expect(moved("container_runtime_crio_operations_errors_total", ["operation": "ContainerStatus"]) == 1)
      #expect(moved("container_runtime_crio_operations_errors_total", ["operation": "CreateContainer"]) == 0)
      #expect(after.value("container_runtime_crio_operations_latency_seconds_total", ["operation": "CreateContainer", "quantile": "0.5"]) ?? 0 > 0)
      #expect(after.value("container_runtime_crio_operations_latency_seconds_total_count", ["operation": "CreateContainer"]) == 2)
      #expect(after.value("container_runtime_crio_operations_latency_seconds", ["operation": "CreateContainer"]) ?? 0 > 0)
      #expect(moved("container_runtime_crio_image_pulls_failure_total", ["error": "MANIFEST_UNKNOWN"]) == 1)
      #expect(moved("container_runtime_crio_image_pulls_success_total") == 1, "the second pull of the image")
      #expect(moved("container_runtime_crio_containers_oom_total") == 1)
      let oomKills = after.families.flatMap(\.samples).filter { $0.name == "container_runtime_crio_containers_oom_count_total" }
      #expect(oomKills.map(\.labels["name"]) == ["k8s_hungry_\(try #require(ListedName.podPart(oomKills.first?.labels["name"])))"])
      #expect(oomKills.first?.value == 1)
      #expect(oomKills.first.map { described.contains(#""name":"\#($0.labels["name"] ?? "")""#) } == true, "\(described)")
      #expect(after.value("container_runtime_crio_containers", ["state": "running"]) == 0)
      // No conmon is left; a pod monitor lives as long as its pod.
      #expect(after.value("container_runtime_crio_monitor_processes") == Double(PodMonitorIntegrationTests.processes(daemon, named: "crio-monitor").count))

      // Only /metrics is served.
      let other = try UnixHTTP.get("/other", socket: socket)
      #expect(other.status == 404)
    }
  }

  @Test func onlyTheConfiguredCollectorsAreServed() async throws {
    let port = try RegistryServer.freePort()
    let directory = try Files.makeTemporaryDirectory(prefix: "crio-metrics")
    defer { Files.removeTree(directory) }
    let config = Self.metricsConfig(
      port: port, socket: directory + "/metrics.sock",
      extra: #"metrics_collectors = ["container_runtime_crio_operations_total", "crio_processes_defunct"]"#)
    try await withDaemon(config: config) { daemon in
      try await CRIConnection.with(socket: daemon.socket) { cri in
        _ = try await cri.runtime.version(Runtime_V1_VersionRequest())
      }
      let scrape = try await Scrape.fetch("http://127.0.0.1:\(port)/metrics")
      #expect(await daemon.stop() == 0)
      #expect(Files.kind(of: directory + "/metrics.sock") == .missing, "a clean stop removes the metrics socket")
      let names = Set(scrape.families.flatMap { $0.samples.map(\.name) })
      #expect(names == ["container_runtime_crio_operations_total", "container_runtime_crio_processes_defunct"])
      #expect(scrape.value("container_runtime_crio_operations_total", ["operation": "Version"]) == 1)
    }
  }

  @Test func httpsServesTheCertificateOnDiskAndTakesARotatedOne() async throws {
    let port = try RegistryServer.freePort()
    let directory = try Files.makeTemporaryDirectory(prefix: "crio-metrics-tls")
    defer { Files.removeTree(directory) }
    let (cert, key) = (directory + "/metrics.crt", directory + "/metrics.key")
    try await Self.makeCertificate(cert: cert, key: key, name: "first")
    let config = Self.metricsConfig(
      port: port, socket: directory + "/metrics.sock", extra: "metrics_cert = \"\(cert)\"\nmetrics_key = \"\(key)\"")
    try await withDaemon(config: config) { daemon in
      let url = "https://127.0.0.1:\(port)/metrics"
      let first = try await Scrape.fetch(url, caFile: cert)
      #expect(first.peerCertificateSHA256 != nil)
      // Plain HTTP is refused once TLS is on.
      await #expect(throws: (any Error).self) { try await Scrape.fetch("http://127.0.0.1:\(port)/metrics") }
      try await Self.makeCertificate(cert: cert, key: key, name: "second")
      let second = try await Scrape.fetch(url, caFile: cert)
      #expect(second.peerCertificateSHA256 != nil && second.peerCertificateSHA256 != first.peerCertificateSHA256)
    }
  }

  /// As CRI-O: neither file there, a self-signed pair is made (the key
  /// root's alone) and served; one file without the other stops start-up.
  @Test func absentCertificateFilesAreMadeAndHalfAPairStopsStartUp() async throws {
    let directory = try Files.makeTemporaryDirectory(prefix: "crio-metrics-tls")
    defer { Files.removeTree(directory) }
    let port = try RegistryServer.freePort()
    let (cert, key) = (directory + "/made/metrics.crt", directory + "/made/metrics.key")
    let config = Self.metricsConfig(
      port: port, socket: directory + "/metrics.sock", extra: "metrics_cert = \"\(cert)\"\nmetrics_key = \"\(key)\"")
    try await withDaemon(config: config) { _ in
      var info = stat()
      #expect(stat(key, &info) == 0 && info.st_mode & 0o777 == 0o600)
      let scrape = try await Scrape.fetch("https://127.0.0.1:\(port)/metrics", caFile: cert)
      #expect(scrape.peerCertificateSHA256 != nil)
    }

    let halfPair = Self.metricsConfig(
      port: try RegistryServer.freePort(), socket: directory + "/half.sock",
      extra: "metrics_cert = \"\(cert)\"\nmetrics_key = \"\(directory)/absent.key\"")
    let daemon = try DaemonProcess(config: halfPair)
    #expect(await daemon.waitForExit() == 1)
    #expect(daemon.log().contains("metrics_cert \(cert)"), "\(daemon.log())")
    await daemon.cleanUp()
  }

  /// Debian's Prometheus server scrapes the endpoint as on a node: the
  /// target is up and a counter's value reaches its query API.
  @Test func aPrometheusServerScrapesTheEndpoint() async throws {
    let port = try RegistryServer.freePort()
    let directory = try Files.makeTemporaryDirectory(prefix: "crio-prometheus")
    defer { Files.removeTree(directory) }
    try await withDaemon(config: Self.metricsConfig(port: port, socket: directory + "/metrics.sock")) { daemon in
      try await CRIConnection.with(socket: daemon.socket) { cri in
        for _ in 0..<3 { _ = try await cri.runtime.version(Runtime_V1_VersionRequest()) }
      }
      try Files.write(directory + "/prometheus.yml", """
        global: {scrape_interval: 2s, scrape_timeout: 2s}
        scrape_configs:
          - job_name: crio
            static_configs: [{targets: ['127.0.0.1:\(port)']}]

        """)
      let web = try RegistryServer.freePort()
      let log = directory + "/prometheus.log"
      let server = try Processes.spawn("/usr/bin/prometheus", [
        "--config.file=\(directory)/prometheus.yml", "--storage.tsdb.path=\(directory)/data",
        "--web.listen-address=127.0.0.1:\(web)", "--log.level=warn",
      ], stdout: log, stderr: log)
      try await withCleanUp {
        func query(_ expression: String) async throws -> String {
          try await Processes.run("/usr/bin/curl", [
            "-fsS", "http://127.0.0.1:\(web)/api/v1/query", "--data-urlencode", "query=\(expression)",
          ]).stdout
        }
        // Its first scrape shows after about five seconds.
        var value = ""
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
          value = (try? await query(#"container_runtime_crio_operations_total{operation="Version",job="crio"}"#)) ?? ""
          if value.contains(#""value":["#) { break }
          try await Task.sleep(for: .milliseconds(500))
        }
        #expect(value.contains(#""3"]"#), "\(value)\n\((try? Files.read(log)) ?? "")")
        // Scraped successfully at least once (on a loaded machine a later
        // scrape may miss its timeout, which says nothing of the endpoint).
        let up = try await query(#"max_over_time(up{job="crio"}[5m])"#)
        #expect(up.contains(#""1"]"#), "\(up)")
      } cleanUp: {
        kill(server, SIGKILL)
        _ = await Processes.wait(server, timeout: .seconds(10))
      }
    }
  }

  /// A self-signed certificate for 127.0.0.1 (openssl, as an operator makes one).
  static func makeCertificate(cert: String, key: String, name: String) async throws {
    let result = try await Processes.run("/usr/bin/openssl", [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
      "-subj", "/CN=\(name)", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key + ".new", "-out", cert + ".new",
    ])
    #expect(result.status == 0, "\(result.stderr)")
    // Both files in place before either is read again.
    #expect(rename(key + ".new", key) == 0 && rename(cert + ".new", cert) == 0)
  }
}

/// A parsed scrape (metrics_scrape.py's JSON).
struct Scrape: Decodable {
  struct Family: Decodable {
    var name: String
    var type: String
    var help: String
    var samples: [Sample]
  }
  struct Sample: Decodable {
    var name: String
    var labels: [String: String]
    var value: Double
  }
  var families: [Family]
  var peerCertificateSHA256: String?

  enum CodingKeys: String, CodingKey {
    case families, peerCertificateSHA256 = "peer_certificate_sha256"
  }

  /// The sample of that name whose labels are exactly `labels`, else the
  /// one whose labels include them when exactly one does. (As parsed, a
  /// deprecated counter X{name} and its successor X_total share a name.)
  func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
    let named = families.flatMap(\.samples).filter { $0.name == name }
    if let exact = named.first(where: { $0.labels == labels }) { return exact.value }
    let matching = named.filter { sample in labels.allSatisfy { sample.labels[$0.key] == $0.value } }
    return matching.count == 1 ? matching[0].value : nil
  }

  func sum(_ name: String) -> Double {
    families.flatMap(\.samples).filter { $0.name == name }.reduce(0) { $0 + $1.value }
  }

  func type(of family: String) -> String? {
    families.first { $0.name == family }?.type
  }

  static func fetch(_ url: String, unixSocket: String? = nil, caFile: String? = nil) async throws -> Scrape {
    let here = #filePath
    let script = String(here[..<here.lastIndex(of: "/")!]) + "/Python/metrics_scrape.py"
    var arguments: [String] = [script, url]
    if let unixSocket { arguments += ["--unix-socket", unixSocket] }
    if let caFile { arguments += ["--ca-file", caFile] }
    let result = try await Processes.run(CCoreClient.python, arguments, timeout: .seconds(60))
    guard result.status == 0 else { throw CCoreClient.Failure("metrics_scrape.py \(url): \(result.stderr)") }
    let decoder = JSONDecoder()
    decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "+Inf", negativeInfinity: "-Inf", nan: "NaN")
    return try decoder.decode(Scrape.self, from: Data(result.stdout.utf8))
  }
}

/// A container's reserved name, as the metrics label it.
enum ListedName {
  /// What follows `k8s_hungry_`: the pod's part of the name.
  static func podPart(_ name: String?) -> String? {
    guard let name, name.hasPrefix("k8s_hungry_") else { return nil }
    return String(name.dropFirst("k8s_hungry_".count))
  }
}
