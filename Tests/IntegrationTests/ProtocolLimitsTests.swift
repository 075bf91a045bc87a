#if canImport(Glibc)
import Glibc
#endif
import CRIAPI
import CRIClient
import GRPCCore
import Support
import Testing

/// HTTP/2 and gRPC limits as clients other than grpc-swift meet them: gRPC
/// C-core (Python's grpcio) holds the server to the frame size it has had
/// acknowledged; kubelet and crictl receive at most 16 MiB; a request over
/// the receive limit is RESOURCE_EXHAUSTED.
@Suite struct ProtocolLimitsTests {
  /// What ExecSync returns of stdout and stderr together at most: kubelet's
  /// 16 MiB receive limit less 1 KiB for the message's framing (the daemon's
  /// `ExecOutput.maximumBytes`).
  static let execSyncBudget = (16 << 20) - 1024

  /// A daemon with the busybox test image, a pod and a running container.
  func withRunningContainer(_ body: (CRIConnection, DaemonProcess, _ pod: String, _ id: String) async throws -> Void) async throws {
    let containers = ContainerTests()
    try await containers.withPod { cri, daemon, pod in
      let id = try await containers.create(cri, pod: pod, ContainerTests.container("sleeper", "sleep 100000"))
      try await containers.start(cri, id)
      try await body(cri, daemon, pod, id)
    }
  }

  /// `count` zero bytes on stdout (busybox dd; fullblock: one read may return less).
  static func zeros(_ count: Int) -> String { "dd if=/dev/zero bs=\(count) count=1 iflag=fullblock 2>/dev/null" }

  @Test func aCCoreClientReadsAnswersLargerThanAFrame() async throws {
    try await withRunningContainer { cri, daemon, pod, id in
      // 1 MiB of random bytes; grpc-swift's client reads the reference.
      _ = try await cri.runtime.execSync(.with {
        $0.containerID = id
        $0.cmd = ["/bin/sh", "-c", "dd if=/dev/urandom of=/tmp/blob bs=1048576 count=1 iflag=fullblock 2>/dev/null"]
        $0.timeout = 30
      })
      let command = ["/bin/sh", "-c", "cat /tmp/blob; echo to stderr >&2; exit 3"]
      let reference = try await cri.runtime.execSync(.with { $0.containerID = id; $0.cmd = command; $0.timeout = 30 })
      #expect(reference.stdout.count == 1 << 20)
      let exec = try await CCoreClient.execSync(socket: daemon.socket, id: id, command)
      #expect(exec.code == "OK", "\(exec.details ?? "")")
      #expect(exec.stdout == CCoreClient.Bytes(of: reference.stdout))
      #expect(exec.stderr == CCoreClient.Bytes(of: Array("to stderr\n".utf8)))
      #expect(exec.exitCode == 3)

      var config = ContainerTests.container("labelled", "true")
      let label = String(repeating: "0123456789abcdef", count: 1 << 16)  // 1 MiB
      config.labels["big"] = label
      let labelled = try await ContainerTests().create(cri, pod: pod, config)
      let list = try await CCoreClient.listContainers(socket: daemon.socket)
      #expect(list.code == "OK", "\(list.details ?? "")")
      #expect(Set(list.containers?.map(\.id) ?? []) == [id, labelled])
      let found = list.containers?.first { $0.id == labelled }
      #expect(found?.labels["big"] == CCoreClient.Bytes(of: Array(label.utf8)))
      #expect(found?.labels["container"] == CCoreClient.Bytes(of: Array("labelled".utf8)))
    }
  }

  @Test func execSyncAnswersFitKubeletsReceiveLimit() async throws {
    let budget = Self.execSyncBudget
    let both = "\(Self.zeros(17 << 20)); { \(Self.zeros(17 << 20)); } >&2"
    try await withRunningContainer { _, daemon, _, id in
      try await CRIConnection.with(socket: daemon.socket, maxResponseBytes: 16 << 20) { kubelet in
        func run(_ script: String) async throws -> Runtime_V1_ExecSyncResponse {
          try await kubelet.runtime.execSync(.with { $0.containerID = id; $0.cmd = ["/bin/sh", "-c", script]; $0.timeout = 60 })
        }
        let exact = try await run(Self.zeros(budget))
        #expect(exact.stdout.count == budget && exact.stderr.isEmpty)
        let over = try await run(Self.zeros(budget + 1))
        #expect(over.stdout.count == budget && over.stderr.isEmpty)
        // Two long streams share the budget; a short one keeps all of it.
        let shared = try await run(both)
        #expect(shared.stdout.count == budget / 2 && shared.stderr.count == budget / 2)
        let short = try await run("echo short; { \(Self.zeros(17 << 20)); } >&2; exit 4")
        #expect(String(decoding: short.stdout, as: UTF8.self) == "short\n")
        #expect(short.stderr.count == budget - 6)
        #expect(short.exitCode == 4)
      }
      // C-core, at the same receive limit (cri_client.py's).
      let exec = try await CCoreClient.execSync(socket: daemon.socket, id: id, ["/bin/sh", "-c", both])
      #expect(exec.code == "OK", "\(exec.details ?? "")")
      #expect(exec.stdout?.length == budget / 2 && exec.stderr?.length == budget / 2)
    }
  }

  @Test func requestsOverTheReceiveLimitAreResourceExhausted() async throws {
    // The default limit, 80 MiB: a 100 MiB request from C-core.
    try await withDaemon { daemon in
      let answer = try await CCoreClient.oversizedVersion(socket: daemon.socket, bytes: 100 << 20)
      #expect(answer.code == "RESOURCE_EXHAUSTED", "\(answer.details ?? "")")
    }
    // The boundary, at a configured 1 MiB: a message of exactly the limit is
    // served, one byte more is refused, and the connection serves on.
    let limit = 1 << 20
    try await withCRI(config: "[crio.api]\ngrpc_max_recv_msg_size = \(limit)\n") { cri, _ async throws in
      // VersionRequest.version: a tag byte, the length (a 3-byte varint at
      // this size), then the string.
      func version(encodedSize: Int) -> Runtime_V1_VersionRequest {
        .with { $0.version = String(repeating: "v", count: encodedSize - 4) }
      }
      #expect(try await cri.runtime.version(version(encodedSize: limit)).runtimeName == "cri-o")
      #expect(await rpcCode { try await cri.runtime.version(version(encodedSize: limit + 1)) } == .resourceExhausted)
      #expect(try await cri.runtime.version(.init()).runtimeName == "cri-o")
    }
  }

  /// The cause behind C-core's "Frame size 16509 is larger than max frame
  /// size 16384": a client announces a larger SETTINGS_MAX_FRAME_SIZE (grpcio
  /// says 4 MiB) and holds the server to the old one until its SETTINGS are
  /// acknowledged, which the server must do.
  @Test func theServerAcknowledgesTheClientsSettings() async throws {
    try await withDaemon { daemon in
      let fd = try UnixSocket.connect(daemon.socket)
      defer { close(fd) }
      var timeout = timeval(tv_sec: 10, tv_usec: 0)
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
      // SETTINGS (type 4) with MAX_FRAME_SIZE (5) = 4 MiB.
      let settings: [UInt8] = [0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 5, 0, 0x40, 0, 0]
      try Files.writeAll(fd, Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8) + settings)
      var received: [UInt8] = []
      func frames() -> [(type: UInt8, flags: UInt8)] {
        var frames: [(type: UInt8, flags: UInt8)] = []
        var offset = 0
        while offset + 9 <= received.count {
          frames.append((received[offset + 3], received[offset + 4]))
          offset += 9 + (Int(received[offset]) << 16 | Int(received[offset + 1]) << 8 | Int(received[offset + 2]))
        }
        return frames
      }
      func acknowledged() -> Bool { frames().contains { $0.type == 4 && $0.flags & 1 == 1 } }
      var chunk = [UInt8](repeating: 0, count: 4096)
      while !acknowledged() {
        let count = read(fd, &chunk, chunk.count)
        guard count > 0 else { break }
        received += chunk[..<count]
      }
      #expect(acknowledged(), "frames from the server (type, flags): \(frames())")
    }
  }
}
