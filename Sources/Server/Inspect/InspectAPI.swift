import Support

/// CRI-O's HTTP/1 inspection API on the CRI socket. cAdvisor (inside kubelet)
/// reads `/info` and `/containers/<id>` when the runtime reports "cri-o";
/// operators read `/config`.
struct InspectAPI: Sendable {
  let daemon: DaemonContext

  func respond(to request: HTTP1Request) async -> HTTP1Response {
    guard request.method == "GET" else {
      return HTTP1Response(status: 405, reason: "Method Not Allowed", body: "only GET is served\n")
    }
    let segments = request.path.split(separator: "/", omittingEmptySubsequences: true)
    switch (segments.first, segments.count) {
    case ("info", 1):
      return json(daemon.inspectInfo())
    case ("config", 1):
      return HTTP1Response(status: 200, reason: "OK", contentType: "application/toml", body: daemon.config.renderTOML())
    case ("containers", 2):
      // No containers exist until the pod lifecycle lands; answer as CRI-O
      // does for an unknown ID.
      return HTTP1Response(status: 404, reason: "Not Found", body: "can't find the container with id \(segments[1])\n")
    default:
      return HTTP1Response(status: 404, reason: "Not Found", body: "no such endpoint: \(request.path)\n")
    }
  }

  private func json(_ value: JSONValue) -> HTTP1Response {
    HTTP1Response(status: 200, reason: "OK", contentType: "application/json", body: value.rendered())
  }
}
