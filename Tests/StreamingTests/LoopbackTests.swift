import NIOCore
import Streaming
import StreamingClient
import Testing

/// The server on 127.0.0.1:0 with the in-memory test runtime, driven by
/// StreamingClient over both transports.
@Suite struct LoopbackRemoteCommandTests {
  private static let transports: [StreamingTransport] = [.spdy, .webSocket]

  @Test(arguments: transports)
  func echoPrintsAndSucceeds(transport: StreamingTransport) async throws {
    try await withServer { server, _ in
      let url = try server.register(.exec(ExecRequest(containerID: "c1", command: ["echo", "hello", "world"])))
      #expect(url.hasPrefix("http://127.0.0.1:\(server.port)/exec/"))
      let result = try await StreamingClient.exec(url: url, transport: transport)
      #expect(result.stdoutText == "hello world\n")
      #expect(result.exitCode == 0)
      #expect(result.failure == nil)
      #expect(String(decoding: result.errorStream, as: UTF8.self) == #"{"metadata":{},"status":"Success"}"#)
    }
  }

  @Test(arguments: transports)
  func nonZeroExitCodeArrivesAsAV4Status(transport: StreamingTransport) async throws {
    try await withServer { server, _ in
      let url = try server.register(.exec(ExecRequest(containerID: "c1", command: ["exit", "3"])))
      let result = try await StreamingClient.exec(url: url, transport: transport)
      #expect(result.protocolName.hasPrefix(transport == .spdy ? "v4." : "v5."))
      #expect(result.exitCode == 3)
      #expect(
        String(decoding: result.errorStream, as: UTF8.self)
          == #"{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: command terminated with exit code 3","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"3"}]}}"#
      )
    }
  }

  @Test func olderProtocolsGetPlainErrorText() async throws {
    try await withServer { server, _ in
      let failing = try server.register(.exec(ExecRequest(containerID: "c1", command: ["exit", "3"])))
      let result = try await StreamingClient.exec(url: failing, protocols: ["v2.channel.k8s.io"])
      #expect(result.protocolName == "v2.channel.k8s.io")
      #expect(result.failure == "command terminated with non-zero exit code: command terminated with exit code 3")
      let passing = try server.register(.exec(ExecRequest(containerID: "c1", command: ["echo", "ok"])))
      let ok = try await StreamingClient.exec(url: passing, transport: .webSocket, protocols: ["base64.channel.k8s.io"])
      #expect(ok.protocolName == "base64.channel.k8s.io")
      #expect(ok.stdoutText == "ok\n")
      #expect(ok.exitCode == 0 && ok.errorStream.isEmpty)
    }
  }

  @Test(arguments: transports)
  func stderrIsSeparate(transport: StreamingTransport) async throws {
    try await withServer { server, _ in
      let url = try server.register(.exec(ExecRequest(containerID: "c1", command: ["stderr", "oops"])))
      let result = try await StreamingClient.exec(url: url, transport: transport)
      #expect(result.stdout.isEmpty)
      #expect(result.stderrText == "oops\n")
    }
  }

  @Test(arguments: transports)
  func stdinRoundTripsAndItsEndIsSeen(transport: StreamingTransport) async throws {
    try await withServer { server, _ in
      let url = try server.register(.exec(ExecRequest(containerID: "c1", command: ["cat"], stdin: true, stdout: true, stderr: false)))
      let result = try await StreamingClient.exec(
        url: url, transport: transport, stdin: chunks(["one\n", "two\n", "three"]), stderr: false)
      #expect(result.stdoutText == "one\ntwo\nthree")
      #expect(result.exitCode == 0)
    }
  }

  @Test(arguments: transports)
  func largeOutputSurvivesFlowControl(transport: StreamingTransport) async throws {
    try await withServer { server, _ in
      let size = 300_000
      let url = try server.register(.exec(ExecRequest(containerID: "c1", command: ["big", "\(size)"], stderr: false)))
      let result = try await StreamingClient.exec(url: url, transport: transport, stderr: false)
      #expect(result.stdout.count == size)
      #expect(result.stdout == (0..<size).map { UInt8(truncatingIfNeeded: $0 % 251) })
      #expect(result.exitCode == 0)
    }
  }

  @Test(arguments: transports)
  func resizeEventsReachTheRuntime(transport: StreamingTransport) async throws {
    try await withServer { server, _ in
      let url = try server.register(
        .exec(ExecRequest(containerID: "c1", command: ["resize", "2"], tty: true, stdin: false, stdout: true, stderr: false)))
      let sizes = AsyncStream<ClientTerminalSize> { continuation in
        continuation.yield(ClientTerminalSize(width: 80, height: 24))
        continuation.yield(ClientTerminalSize(width: 120, height: 40))
      }
      let result = try await StreamingClient.exec(url: url, transport: transport, stderr: false, tty: true, resize: sizes)
      #expect(result.stdoutText == "80x24\n120x40\n")
    }
  }

  @Test(arguments: transports)
  func attachCopiesStdin(transport: StreamingTransport) async throws {
    try await withServer { server, _ in
      let url = try server.register(.attach(AttachRequest(containerID: "c1", stdin: true, stdout: true, stderr: false)))
      #expect(url.contains("/attach/"))
      let result = try await StreamingClient.exec(url: url, transport: transport, stdin: chunks(["ping"]), stderr: false)
      #expect(result.stdoutText == "ping")
      #expect(result.exitCode == 0)
    }
  }

  @Test func runtimeErrorsAreInternalErrors() async throws {
    try await withServer { server, _ in
      let url = try server.register(.exec(ExecRequest(containerID: "c1", command: ["nonexistent"])))
      let result = try await StreamingClient.exec(url: url)
      #expect(result.exitCode == nil)
      #expect(result.failure == "Internal error occurred: error executing command in container: no such command: nonexistent")
    }
  }

  @Test(arguments: transports)
  func clientDisconnectEndsTheRuntimeCall(transport: StreamingTransport) async throws {
    try await withServer { server, runtime in
      let url = try server.register(.exec(ExecRequest(containerID: "c1", command: ["hang"], stdin: true, stderr: false)))
      let (stdin, _) = AsyncStream<[UInt8]>.makeStream()
      let client = Task { try await StreamingClient.exec(url: url, transport: transport, stdin: stdin, stderr: false) }
      // Generous: the whole test run shares two cores.
      #expect(await eventually(timeout: .seconds(60)) { runtime.started.withLock { $0.contains("hang") } })
      client.cancel()
      _ = await client.result
      #expect(await eventually { runtime.cancelled.withLock { $0.contains("hang") } })
      #expect(await eventually { server.openConnectionCount == 0 })
    }
  }
}

@Suite struct LoopbackRequestTests {
  @Test func aTokenWorksOnce() async throws {
    try await withServer { server, _ in
      let url = try server.register(.exec(ExecRequest(containerID: "c1", command: ["echo", "once"])))
      _ = try await StreamingClient.exec(url: url)
      await #expect(throws: StreamingClientError.upgradeRejected(status: 404, body: "404 page not found\n")) {
        _ = try await StreamingClient.exec(url: url)
      }
      await #expect(throws: StreamingClientError.upgradeRejected(status: 404, body: "404 page not found\n")) {
        _ = try await StreamingClient.exec(url: url, transport: .webSocket)
      }
    }
  }

  @Test func anExpiredTokenIsNotFound() async throws {
    let clock = ManualClock()
    try await withServer(StreamingServerConfiguration(tokenTimeToLive: .seconds(60), now: clock.now)) { server, _ in
      let url = try server.register(.exec(ExecRequest(containerID: "c1", command: ["echo"])))
      clock.advance(by: .seconds(61))
      await #expect(throws: StreamingClientError.upgradeRejected(status: 404, body: "404 page not found\n")) {
        _ = try await StreamingClient.exec(url: url)
      }
    }
  }

  @Test func requestsWithoutUpgradeAreBadRequests() async throws {
    try await withServer { server, _ in
      let url = try server.register(.exec(ExecRequest(containerID: "c1", command: ["echo"])))
      let path = String(url.dropFirst("http://127.0.0.1:\(server.port)".count))
      let response = try await rawHTTP(port: server.port, "GET \(path) HTTP/1.1\r\nHost: x\r\n\r\n")
      #expect(response.hasPrefix("HTTP/1.1 400 Bad Request"))
      #expect(response.contains("missing upgrade headers"))
      let unknown = try await rawHTTP(port: server.port, "GET /nothing/here HTTP/1.1\r\nHost: x\r\n\r\n")
      #expect(unknown.hasPrefix("HTTP/1.1 404 Not Found"))
      let garbage = try await rawHTTP(port: server.port, "NOT HTTP AT ALL\r\n\r\n")
      #expect(garbage.hasPrefix("HTTP/1.1 400"))
    }
  }

  @Test func malformedSPDYFramesEndTheConnection() async throws {
    try await withServer { server, runtime in
      let url = try server.register(.exec(ExecRequest(containerID: "c1", command: ["echo", "never"])))
      let path = String(url.dropFirst("http://127.0.0.1:\(server.port)".count))
      // Bytes that are no SPDY/3 frame right behind the upgrade request.
      let request =
        "GET \(path) HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n"
        + "X-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n\u{80}\u{02}\u{00}\u{06}\u{00}\u{00}\u{00}\u{04}abcd"
      let response = try await rawHTTP(port: server.port, request)
      #expect(response.hasPrefix("HTTP/1.1 101 Switching Protocols"))
      #expect(response.lowercased().contains("x-stream-protocol-version: v4.channel.k8s.io"))
      #expect(await eventually { server.openConnectionCount == 0 })
      #expect(runtime.started.withLock { $0.isEmpty })
    }
  }

  @Test func unknownProtocolsAreForbidden() async throws {
    try await withServer { server, _ in
      let spdy = try server.register(.exec(ExecRequest(containerID: "c1", command: ["echo"])))
      await #expect {
        _ = try await StreamingClient.exec(url: spdy, protocols: ["v9.channel.k8s.io"])
      } throws: { error in
        guard case StreamingClientError.upgradeRejected(let status, let body) = error else { return false }
        return status == 403 && body.contains("unable to negotiate protocol")
      }
      let webSocket = try server.register(.exec(ExecRequest(containerID: "c1", command: ["echo"])))
      await #expect {
        _ = try await StreamingClient.exec(url: webSocket, transport: .webSocket, protocols: ["v9.channel.k8s.io"])
      } throws: { error in
        guard case StreamingClientError.upgradeRejected(let status, _) = error else { return false }
        return status == 403
      }
    }
  }

  @Test func invalidRequestsAreNotRegistered() async throws {
    try await withServer { server, _ in
      #expect(throws: StreamingRequestError.ttyWithStderr) {
        try server.register(.exec(ExecRequest(containerID: "c", command: ["sh"], tty: true, stderr: true)))
      }
      #expect(throws: StreamingRequestError.noStreams) {
        try server.register(.attach(AttachRequest(containerID: "c", stdout: false, stderr: false)))
      }
      #expect(throws: StreamingRequestError.missingContainerID) {
        try server.register(.exec(ExecRequest(containerID: "", command: ["sh"])))
      }
      #expect(throws: StreamingRequestError.missingPodSandboxID) {
        try server.register(.portForward(PortForwardRequest(podSandboxID: "")))
      }
    }
  }

  @Test func idleConnectionsAreClosed() async throws {
    try await withServer(StreamingServerConfiguration(idleTimeout: .milliseconds(200))) { server, _ in
      let url = try server.register(.exec(ExecRequest(containerID: "c1", command: ["hang"], stdin: true, stderr: false)))
      let (stdin, _) = AsyncStream<[UInt8]>.makeStream()
      let client = Task { try await StreamingClient.exec(url: url, transport: .webSocket, stdin: stdin, stderr: false) }
      // The idle close ends the session from the server's side; the client returns.
      _ = try? await client.value
      #expect(await eventually { server.openConnectionCount == 0 })
    }
  }
}

@Suite struct LoopbackPortForwardTests {
  @Test(arguments: [StreamingTransport.spdy, .webSocket])
  func bytesRoundTripThroughAPodPort(transport: StreamingTransport) async throws {
    let echo = try await EchoServer()
    defer { Task { await echo.stop() } }
    try await withServer { server, _ in
      let url = try server.register(.portForward(PortForwardRequest(podSandboxID: "pod", ports: [echo.port])))
      #expect(url.contains("/portforward/"))
      let connection = try await StreamingClient.portForward(url: url, port: echo.port, transport: transport)
      let message = Array("hello through the pod".utf8)
      try await connection.send(message)
      var received: [UInt8] = []
      for await chunk in connection.received {
        received += chunk
        if received.count >= message.count { break }
      }
      // What the forward said when the bytes did not come back (once, in a
      // CI rehearsal, none came back over WebSocket).
      let said = received == message ? "" : await connection.errorMessage()
      #expect(received == message, "error stream: \(said)")
      await connection.close()
    }
  }

  @Test func spdyHalfCloseEndsTheForward() async throws {
    let echo = try await EchoServer()
    defer { Task { await echo.stop() } }
    try await withServer { server, _ in
      let url = try server.register(.portForward(PortForwardRequest(podSandboxID: "pod")))
      let connection = try await StreamingClient.portForward(url: url, port: echo.port)
      try await connection.send(Array("abc".utf8))
      try await connection.closeWrite()
      var received: [UInt8] = []
      for await chunk in connection.received { received += chunk }
      #expect(received == Array("abc".utf8))
      #expect(await connection.errorMessage() == "")
      await connection.close()
    }
  }

  @Test func dialFailuresGoToTheErrorStream() async throws {
    let closed = try ClosedPort()
    let closedPort = closed.port
    try await withServer { server, _ in
      let url = try server.register(.portForward(PortForwardRequest(podSandboxID: "pod")))
      let connection = try await StreamingClient.portForward(url: url, port: closedPort)
      let message = await connection.errorMessage()
      #expect(message.contains("error forwarding port \(closedPort) to pod pod"))
      #expect(message.contains("\"closeConnection\":true"))
      await connection.close()
    }
    withExtendedLifetime(closed) {}
  }
}
