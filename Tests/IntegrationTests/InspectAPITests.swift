import CRIAPI
import CRIClient
import FoundationEssentials
import Testing
import Support

/// cAdvisor's view of `/containers/<id>` (its crio client's struct), plus
/// the fields of CRI-O's it does not read.
struct CAdvisorContainerInfo: Decodable {
  var name: String
  var pid: Int
  var image: String
  var imageRef: String
  var createdTime: Int64
  var labels: [String: String]
  var annotations: [String: String]
  var crioAnnotations: [String: String]?
  var logPath: String
  var root: String
  var sandbox: String
  var ips: [String]?
  enum CodingKeys: String, CodingKey {
    case name, pid, image, imageRef = "image_ref", createdTime = "created_time", labels, annotations
    case crioAnnotations = "crio_annotations", logPath = "log_path", root, sandbox, ips = "ip_addresses"
  }
}

/// CRI-O's HTTP/1 inspection API, served on the CRI socket beside gRPC.
@Suite struct InspectAPITests {
  @Test func infoAndConfigAreServedOverHTTP1OnTheCRISocket() async throws {
    try await withDaemon(arguments: ["--cgroup-manager", "cgroupfs"]) { daemon in
      let info = try UnixHTTP.get("/info", socket: daemon.socket)
      #expect(info.status == 200)
      #expect(info.body.contains(#""cgroup_driver":"cgroupfs""#))
      #expect(info.body.contains(#""storage_root":"\#(daemon.directory)/root""#))

      let config = try UnixHTTP.get("/config", socket: daemon.socket)
      #expect(config.status == 200)
      #expect(config.body.contains("[crio.api]"))
      #expect(config.body.contains("listen = \"\(daemon.socket)\""))

      let container = try UnixHTTP.get("/containers/0123abcd", socket: daemon.socket)
      #expect(container.status == 404)
      #expect(container.body.contains("can't find the container with id 0123abcd"))

      let unknown = try UnixHTTP.get("/nope", socket: daemon.socket)
      #expect(unknown.status == 404 && unknown.body == "404 page not found\n")
    }
  }

  /// What cAdvisor decodes (its crio client's field names) and crictl's
  /// view of the same container agree; a pod ID answers for the pod.
  @Test func containersAreDescribedAsCAdvisorReadsThem() async throws {
    let kit = ContainerTests()
    try await kit.withPod { cri, daemon, pod in
      var config = ContainerTests.container("described", "sleep 1000")
      config.annotations = ["io.kubernetes.container.restartCount": "0"]
      let id = try await kit.create(cri, pod: pod, config)
      try await kit.start(cri, id)
      let status = try await kit.status(cri, id)
      let answer = try UnixHTTP.get("/containers/\(id)", socket: daemon.socket)
      #expect(answer.status == 200)
      let info = try JSONDecoder().decode(CAdvisorContainerInfo.self, from: Data(answer.body.utf8))
      #expect(info.name.hasPrefix("k8s_described_"))
      #expect(info.pid > 1)
      #expect(info.image == status.image.image)
      #expect(info.createdTime == status.createdAt)
      #expect(info.labels == status.labels)
      #expect(info.annotations == status.annotations)
      #expect(info.logPath == status.logPath)
      #expect(info.sandbox == pod)
      #expect(info.imageRef.contains("@sha256:"), "the image's repo digest, as CRI-O: \(info.imageRef)")
      #expect(Files.kind(of: info.root + "/bin/sh") != .missing, "root is the container's root file system")
      #expect(info.crioAnnotations?["io.kubernetes.cri-o.ContainerID"] == id)
      // crictl's verbose inspect names the same process.
      let verbose = try await cri.runtime.containerStatus(.with { $0.containerID = id; $0.verbose = true })
      #expect(verbose.info["info"]?.contains("\"pid\":\(info.pid)") == true)

      let podAnswer = try UnixHTTP.get("/containers/\(pod)", socket: daemon.socket)
      #expect(podAnswer.status == 200)
      let podInfo = try JSONDecoder().decode(CAdvisorContainerInfo.self, from: Data(podAnswer.body.utf8))
      #expect(podInfo.name.hasPrefix("k8s_POD_") && podInfo.sandbox == pod && podInfo.pid > 0)

      let printed = try await crio(["status", "containers", "--id", id, "--socket", daemon.socket])
      #expect(printed.status == 0)
      #expect(printed.stdout.hasPrefix("name: \(info.name)\npid: \(info.pid)\nimage: \(info.image)\n"), "\(printed.stdout)")
      #expect(printed.stdout.contains("sandbox: \(pod)\n"))
      let empty = try await crio(["status", "containers", "--id", "", "--socket", daemon.socket])
      #expect(empty.status != 0 && empty.stderr.contains("the argument --id cannot be empty"))
    }
  }

  /// CRI-O 1.26's `/pause/<id>` and `/unpause/<id>`: the container's processes
  /// freeze and thaw; a second pause is a conflict; a paused container stops.
  @Test func pauseAndUnpauseFreezeTheContainer() async throws {
    let kit = ContainerTests()
    try await kit.withPod { cri, daemon, pod in
      let id = try await kit.create(cri, pod: pod, ContainerTests.container("frozen", "sleep 1000"))
      try await kit.start(cri, id)
      let runc = ["--root", daemon.directory + "/runc", "state", id]
      func runcStatus() async throws -> String {
        let state = try await Processes.run(DaemonProcess.runcPath, runc)
        return state.stdout.contains("\"status\": \"paused\"") ? "paused" : state.stdout.contains("\"status\": \"running\"") ? "running" : state.stdout + state.stderr
      }
      let paused = try UnixHTTP.get("/pause/\(id)", socket: daemon.socket)
      #expect(paused.status == 200 && paused.body == "200 OK")
      #expect(try await runcStatus() == "paused")
      let again = try UnixHTTP.get("/pause/\(id)", socket: daemon.socket)
      #expect(again.status == 409 && again.body == "container is not in running or created state, now is paused\n")
      #expect(try await kit.status(cri, id).state == .containerRunning, "the CRI has no paused state")
      let resumed = try UnixHTTP.get("/unpause/\(id)", socket: daemon.socket)
      #expect(resumed.status == 200)
      #expect(try await runcStatus() == "running")
      let notPaused = try UnixHTTP.get("/unpause/\(id)", socket: daemon.socket)
      #expect(notPaused.status == 409 && notPaused.body == "container is not in paused state, now is running\n")
      #expect(try UnixHTTP.get("/pause/0123456789ab", socket: daemon.socket).status == 404)
      // Paused again, it still stops (thawed first) and is removed.
      #expect(try UnixHTTP.get("/pause/\(id)", socket: daemon.socket).status == 200)
      _ = try await cri.runtime.stopContainer(.with { $0.containerID = id; $0.timeout = 5 })
      #expect(try await kit.status(cri, id).state == .containerExited)
      _ = try await cri.runtime.removeContainer(.with { $0.containerID = id })
      // A created container can be paused too (as in CRI-O), and removed so.
      let created = try await kit.create(cri, pod: pod, ContainerTests.container("created", "sleep 1000"))
      #expect(try UnixHTTP.get("/pause/\(created)", socket: daemon.socket).status == 200)
      _ = try await cri.runtime.removeContainer(.with { $0.containerID = created })
      let left = try await Processes.run(DaemonProcess.runcPath, ["--root", daemon.directory + "/runc", "list", "-q"])
      #expect(!left.stdout.contains(created))
    }
  }

  @Test func http1AndGRPCInterleave() async throws {
    try await withDaemon { daemon in
      try await CRIConnection.with(socket: daemon.socket) { cri in
        for _ in 0..<5 {
          #expect(try UnixHTTP.get("/info", socket: daemon.socket).status == 200)
          let version = try await cri.runtime.version(Runtime_V1_VersionRequest())
          #expect(version.runtimeName == "cri-o")
        }
      }
    }
  }

  @Test func crioStatusReadsTheRunningDaemon() async throws {
    try await withDaemon { daemon in
      let info = try await crio(["status", "info", "--socket", daemon.socket])
      #expect(info.status == 0)
      #expect(info.stdout.contains("storage driver: overlay\nstorage root: \(daemon.directory)/root\n"), "\(info.stdout)")
      #expect(info.stdout.contains("default UID mappings (format <container>:<host>:<size>):\n  0:0:4294967295\n"))
      let config = try await crio(["status", "config", "--socket", daemon.socket])
      #expect(config.status == 0)
      #expect(config.stdout.contains("[crio.runtime]"))
      let missing = try await crio(["status", "info", "--socket", daemon.directory + "/absent.sock"])
      #expect(missing.status == 1)
      #expect(missing.stderr.contains("is the daemon running"))
    }
  }
}
