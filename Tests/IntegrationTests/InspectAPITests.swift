import CRIAPI
import CRIClient
import Testing
import Support

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

      #expect(try UnixHTTP.get("/nope", socket: daemon.socket).status == 404)
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
      #expect(info.stdout.contains("storage_driver"))
      let config = try await crio(["status", "config", "--socket", daemon.socket])
      #expect(config.status == 0)
      #expect(config.stdout.contains("[crio.runtime]"))
      let missing = try await crio(["status", "info", "--socket", daemon.directory + "/absent.sock"])
      #expect(missing.status == 1)
      #expect(missing.stderr.contains("is the daemon running"))
    }
  }
}
