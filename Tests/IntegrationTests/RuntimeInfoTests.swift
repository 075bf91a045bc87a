import CRIAPI
import CRIClient
import GRPCCore
import Testing

/// What `crictl version`, `crictl info` and kubelet's start-up checks see.
@Suite struct RuntimeInfoTests {
  @Test func versionAnswersAsCRIO() async throws {
    try await withCRI { cri, _ in
      let version = try await cri.runtime.version(Runtime_V1_VersionRequest.with { $0.version = "v1" })
      #expect(version.version == "0.1.0")
      #expect(version.runtimeName == "cri-o")
      #expect(version.runtimeVersion == "0.1.0")
      #expect(version.runtimeApiVersion == "v1")
    }
  }

  @Test func statusReportsRuntimeAndNetworkReady() async throws {
    // The test daemon's network directory holds a loopback-only network.
    try await withCRI { cri, _ in
      let status = try await cri.runtime.status(Runtime_V1_StatusRequest())
      let conditions = Dictionary(uniqueKeysWithValues: status.status.conditions.map { ($0.type, $0) })
      #expect(conditions["RuntimeReady"]?.status == true)
      #expect(conditions["NetworkReady"]?.status == true)
      #expect(status.info.isEmpty, "info is only filled for verbose requests")
      let handlers = status.runtimeHandlers.map(\.name)
      #expect(handlers.contains("runc"))
      #expect(handlers.contains(""), "the default handler is announced under the empty name")
    }
  }

  @Test func verboseStatusCarriesJSONInfo() async throws {
    try await withCRI(arguments: ["--cgroup-manager", "cgroupfs"]) { cri, daemon in
      _ = try await cri.runtime.updateRuntimeConfig(Runtime_V1_UpdateRuntimeConfigRequest.with {
        $0.runtimeConfig.networkConfig.podCidr = "10.88.0.0/16"
      })
      let status = try await cri.runtime.status(Runtime_V1_StatusRequest.with { $0.verbose = true })
      let config = try #require(status.info["config"])
      #expect(config.hasPrefix("{") && config.hasSuffix("}"))
      #expect(config.contains(daemon.socket), "the running config names the socket in use")
      let runtime = try #require(status.info["runtime"])
      #expect(runtime.contains(#""podCIDR":"10.88.0.0/16""#), "UpdateRuntimeConfig's pod CIDR is recorded")
      #expect(runtime.contains(#""cgroupDriver":"cgroupfs""#))
    }
  }

  @Test(arguments: [("cgroupfs", Runtime_V1_CgroupDriver.cgroupfs), ("systemd", .systemd)])
  func runtimeConfigReportsTheCgroupDriver(manager: String, driver: Runtime_V1_CgroupDriver) async throws {
    try await withCRI(config: "[crio.runtime]\ncgroup_manager = \"\(manager)\"\n") { cri, _ in
      let response = try await cri.runtime.runtimeConfig(Runtime_V1_RuntimeConfigRequest())
      #expect(response.linux.cgroupDriver == driver)
    }
  }

  @Test func updateRuntimeConfigRejectsABadCIDR() async throws {
    try await withCRI { cri, _ in
      for bad in ["10.88.0.0", "10.88.0.0/33", "banana/8", "fd00::/129", "10.0.0.0/8,fd00::/64,10.1.0.0/16"] {
        let code = await rpcCode {
          try await cri.runtime.updateRuntimeConfig(Runtime_V1_UpdateRuntimeConfigRequest.with {
            $0.runtimeConfig.networkConfig.podCidr = bad
          })
        }
        #expect(code == .invalidArgument, "pod CIDR \(bad)")
      }
      // Dual stack and an empty CIDR (no change) are accepted.
      for good in ["10.88.0.0/16,fd00:10:88::/64", ""] {
        _ = try await cri.runtime.updateRuntimeConfig(Runtime_V1_UpdateRuntimeConfigRequest.with {
          $0.runtimeConfig.networkConfig.podCidr = good
        })
      }
    }
  }

  @Test func unservedRPCsAnswerUnimplementedNamingTheRPC() async throws {
    try await withCRI { cri, _ in
      do {
        _ = try await cri.runtime.checkpointContainer(Runtime_V1_CheckpointContainerRequest())
        Issue.record("CheckpointContainer unexpectedly succeeded")
      } catch let error as RPCError {
        #expect(error.code == .unimplemented)
        #expect(error.message.contains("CheckpointContainer"))
      }
      // With enable_pod_events off (the default), GetContainerEvents ends
      // at once without an error, as CRI-O 1.26 answers, rather than hanging.
      let code = await rpcCode {
        try await cri.runtime.getContainerEvents(Runtime_V1_GetEventsRequest()) { response in
          for try await _ in response.messages {}
        }
      }
      #expect(code == nil)
      // The daemon still serves after all that.
      _ = try await cri.runtime.version(Runtime_V1_VersionRequest())
    }
  }

  @Test func requestsLargerThanTheLimitAreRefused() async throws {
    try await withCRI(config: "[crio.api]\ngrpc_max_recv_msg_size = 4096\n") { cri, _ in
      let code = await rpcCode {
        try await cri.runtime.updateRuntimeConfig(Runtime_V1_UpdateRuntimeConfigRequest.with {
          $0.runtimeConfig.networkConfig.podCidr = String(repeating: "1", count: 8192)
        })
      }
      // grpc-swift-nio-transport 2.9 resets the stream of an oversized
      // request (the client reports UNAVAILABLE) instead of answering
      // RESOURCE_EXHAUSTED; either way the request is refused unread.
      #expect(code == .unavailable || code == .resourceExhausted, "got \(String(describing: code))")
      // A request under the limit on a new connection is served.
      _ = try await cri.runtime.version(Runtime_V1_VersionRequest())
    }
  }
}
