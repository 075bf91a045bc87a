import Config
import Support

extension DaemonContext {
  /// Answers the metrics endpoint: `GET /metrics`, as CRI-O's promhttp
  /// handler; any other path is 404.
  func metricsResponse(to request: HTTP1Request) async -> HTTP1Response {
    guard request.path == "/metrics", request.method == "GET" || request.method == "HEAD" else {
      return HTTP1Response(status: 404, reason: "Not Found", body: "404 page not found\n")
    }
    let facts = await scrapeFacts()
    let body = String(decoding: metrics.exposition(facts), as: UTF8.self)
    return HTTP1Response(
      status: 200, reason: "OK", contentType: "text/plain; version=0.0.4; charset=utf-8",
      body: request.method == "HEAD" ? "" : body)
  }

  /// What is read at scrape time: /proc walks run on the blocking pool, the
  /// counts by state come from the in-memory indexes.
  func scrapeFacts() async -> ScrapeFacts {
    let collectors = metrics.collectors
    let exitsDirectory = config.runtime.containerExitsDir
    var facts = await Blocking.run { () -> ScrapeFacts in
      var facts = ScrapeFacts()
      if collectors.contains(.processesDefunct) { facts.defunctProcesses = ProcStat.defunctProcesses() }
      if collectors.contains(.monitorProcesses) {
        // conmons and pod monitors alike.
        facts.monitorProcesses = Recovery.monitorProcesses(exitsDirectory: exitsDirectory).count
          + Recovery.podMonitorProcesses(exitsDirectory: exitsDirectory).count
      }
      if collectors.contains(.process) { facts.process = ProcessFacts.current() }
      return facts
    }
    if collectors.contains(.containers) {
      let records = containers.supervisor.index.all.map(\.record)
      facts.containersByState = ContainerRecord.State.allCases.map { state in
        (state.rawValue, records.count { $0.state == state })
      }
    }
    if collectors.contains(.pods) {
      let records = pods.supervisor.index.all.map(\.record)
      facts.podsByState = [("ready", records.count { $0.state == .ready }), ("notready", records.count { $0.state == .notReady })]
    }
    return facts
  }
}
