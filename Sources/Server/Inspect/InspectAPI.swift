import Config
import Runtime
import Support

/// CRI-O's HTTP/1 inspection API on the CRI socket. cAdvisor (inside kubelet)
/// reads `/info` and `/containers/<id>` when the runtime reports "cri-o";
/// operators read `/config` and pause containers through `/pause/<id>`.
/// Paths, answers and error texts are CRI-O 1.26's (its router answers
/// anything it does not know, other methods included, with Go's 404).
struct InspectAPI: Sendable {
  let daemon: DaemonContext

  func respond(to request: HTTP1Request) async -> HTTP1Response {
    let segments = request.path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
    guard request.method == "GET" || request.method == "HEAD" else { return Self.pageNotFound }
    switch (segments.first, segments.count) {
    case ("info", 1):
      return json(daemon.inspectInfo())
    case ("config", 1):
      return HTTP1Response(status: 200, reason: "OK", contentType: "application/toml", body: daemon.config.renderTOML())
    case ("containers", 2):
      return containerInfo(segments[1])
    case ("pause", 2):
      return await pause(segments[1], freeze: true)
    case ("unpause", 2):
      return await pause(segments[1], freeze: false)
    default:
      return Self.pageNotFound
    }
  }

  static let pageNotFound = HTTP1Response(status: 404, reason: "Not Found", body: "404 page not found\n")

  /// `/containers/<id>`: a container by its full ID, or a pod by its ID (CRI-O
  /// answers for the pod's infra container then).
  private func containerInfo(_ id: String) -> HTTP1Response {
    if let owner = daemon.containers.supervisor.index.owner(id) {
      let record = owner.record
      guard let pod = daemon.pods.supervisor.index.owner(record.podID)?.record else {
        return error(404, "can't find the sandbox for container id \(id)")
      }
      return json(ContainerInfo(container: record, rootfs: owner.layout.rootfs, pod: pod, images: daemon.images).json)
    }
    if let pod = daemon.pods.supervisor.index.owner(id)?.record {
      return json(ContainerInfo(pod: pod, containers: daemon.containers(of: pod.id), pauseImage: daemon.config.image.pauseImage).json)
    }
    return error(404, "can't find the container with id \(id)")
  }

  private func pause(_ id: String, freeze: Bool) async -> HTTP1Response {
    guard let owner = daemon.containers.supervisor.index.owner(id) else {
      return error(404, "can't find the container with id \(id)")
    }
    do throws(CRIError) {
      if freeze {
        try await daemon.containers.supervisor.pause(owner)
      } else {
        try await daemon.containers.supervisor.unpause(owner)
      }
    } catch {
      switch error {
      case .notFound(let message): return self.error(404, message)
      case .failedPrecondition(let message): return self.error(409, message)
      default: return self.error(500, error.rpcErrorMessage)
      }
    }
    return HTTP1Response(status: 200, reason: "OK", contentType: "text/html", body: "200 OK")
  }

  private func json(_ value: JSONValue) -> HTTP1Response {
    json(value.rendered())
  }

  private func json(_ text: String) -> HTTP1Response {
    HTTP1Response(status: 200, reason: "OK", contentType: "application/json", body: text)
  }

  /// Go's `http.Error`: the text and a newline.
  private func error(_ status: Int, _ message: String) -> HTTP1Response {
    let reasons = [404: "Not Found", 409: "Conflict", 500: "Internal Server Error"]
    return HTTP1Response(status: status, reason: reasons[status] ?? "Error", body: message + "\n")
  }
}
