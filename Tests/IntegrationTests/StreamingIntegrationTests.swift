#if canImport(Glibc)
import Glibc
#endif
import CRIAPI
import CRIClient
import GRPCCore
import StreamingClient
import Support
import TestFixtures
import Testing

/// Exec, attach and port-forward as kubectl and crictl use them: a CRI call
/// for the URL, then the streaming protocols (SPDY/3.1 and WebSocket) spoken
/// by a client written from their specifications, against real containers.
@Suite struct StreamingIntegrationTests {
  let kit = ContainerTests()

  func running(_ cri: CRIConnection, pod: String, _ name: String, _ script: String = "trap 'exit 0' QUIT; sleep 1000 & wait", tty: Bool = false, stdin: Bool = false) async throws -> String {
    var config = ContainerTests.container(name, script)
    config.tty = tty
    config.stdin = stdin
    let id = try await kit.create(cri, pod: pod, config)
    try await kit.start(cri, id)
    return id
  }

  func execURL(_ cri: CRIConnection, _ id: String, _ command: [String], stdin: Bool = false, tty: Bool = false) async throws -> String {
    try await cri.runtime.exec(.with {
      $0.containerID = id
      $0.cmd = command
      $0.stdin = stdin
      $0.stdout = true
      $0.stderr = !tty
      $0.tty = tty
    }).url
  }

  static func bytes(_ text: String) -> AsyncStream<[UInt8]> {
    AsyncStream { continuation in
      continuation.yield(Array(text.utf8))
      continuation.finish()
    }
  }

  @Test(arguments: [StreamingTransport.spdy, .webSocket], RuntimeType.allCases)
  func execCarriesOutputErrorsExitCodesAndStdin(transport: StreamingTransport, runtime: RuntimeType) async throws {
    try await kit.withPod(runtime: runtime) { cri, _, pod in
      let id = try await running(cri, pod: pod, "exec")
      let url = try await execURL(cri, id, ["sh", "-c", "echo out; echo err >&2; exit 3"])
      #expect(url.hasPrefix("http://127.0.0.1:"), "\(url)")
      let failed = try await StreamingClient.exec(url: url, transport: transport)
      #expect(failed.stdoutText == "out\n")
      #expect(failed.stderrText == "err\n")
      #expect(failed.exitCode == 3, "\(failed)")

      let ok = try await StreamingClient.exec(url: try await execURL(cri, id, ["true"]), transport: transport)
      #expect(ok.exitCode == 0, "\(ok)")

      let echoed = try await StreamingClient.exec(
        url: try await execURL(cri, id, ["cat"], stdin: true), transport: transport,
        stdin: Self.bytes("through stdin\n"), protocols: transport == .webSocket ? ["v5.channel.k8s.io"] : nil)
      #expect(echoed.stdoutText == "through stdin\n", "closing stdin ends cat: \(echoed)")
      #expect(echoed.exitCode == 0)
    }
  }

  @Test(arguments: RuntimeType.allCases)
  func manyExecsRunAtOnce(_ runtime: RuntimeType) async throws {
    try await kit.withPod(runtime: runtime) { cri, _, pod in
      let id = try await running(cri, pod: pod, "busy")
      let outputs = try await withThrowingTaskGroup(of: (Int, String, Int32?).self) { group in
        for index in 0..<16 {
          let url = try await execURL(cri, id, ["sh", "-c", "sleep 0.5; echo exec-\(index); exit \(index % 4)"])
          group.addTask {
            let result = try await StreamingClient.exec(url: url, transport: index % 2 == 0 ? .spdy : .webSocket)
            return (index, result.stdoutText, result.exitCode)
          }
        }
        return try await group.reduce(into: [(Int, String, Int32?)]()) { $0.append($1) }
      }
      #expect(outputs.count == 16)
      for (index, stdout, code) in outputs {
        #expect(stdout == "exec-\(index)\n")
        #expect(code == Int32(index % 4))
      }
    }
  }

  @Test(arguments: RuntimeType.allCases)
  func execWithATerminalSeesTheResize(_ runtime: RuntimeType) async throws {
    try await kit.withPod(runtime: runtime) { cri, _, pod in
      let id = try await running(cri, pod: pod, "tty")
      // Until the size arrives (busybox's stty prints nothing on stdout for
      // a 0x0 terminal): a fixed sleep lost the race on a loaded machine.
      let url = try await execURL(
        cri, id, ["sh", "-c", "for i in $(seq 300); do s=$(stty size 2>/dev/null); [ -n \"$s\" ] && break; sleep 0.1; done; echo \"$s\"; tty"],
        tty: true)
      let (resize, sizes) = AsyncStream<ClientTerminalSize>.makeStream()
      sizes.yield(ClientTerminalSize(width: 123, height: 45))
      let result = try await StreamingClient.exec(url: url, stderr: false, tty: true, resize: resize)
      sizes.finish()
      #expect(result.stdoutText.contains("45 123"), "\(result.stdoutText)")
      #expect(result.stdoutText.contains("/dev/pts/"), "a real terminal: \(result.stdoutText)")
      #expect(result.exitCode == 0, "\(String(decoding: result.errorStream, as: UTF8.self))")
    }
  }

  @Test(arguments: RuntimeType.allCases)
  func attachSeesTheContainersOutputAndLeavesItRunningWhenDetached(_ runtime: RuntimeType) async throws {
    try await kit.withPod(runtime: runtime) { cri, _, pod in
      let id = try await running(cri, pod: pod, "talker", "trap 'exit 0' QUIT; sleep 1; echo attached-output; sleep 1000 & wait")
      let url = try await cri.runtime.attach(.with { $0.containerID = id; $0.stdout = true; $0.stderr = true }).url
      let session = Task { try await StreamingClient.exec(url: url) }
      try await Task.sleep(for: .milliseconds(1500))
      session.cancel()
      _ = try? await session.value
      #expect(try await kit.status(cri, id).state == .containerRunning, "detaching leaves the container running")
      // Attached stdin reaches the container; its output comes back, and
      // the session ends when the container does.
      let reader = try await running(cri, pod: pod, "reader", "read line; echo got-$line", stdin: true)
      let attached = try await StreamingClient.exec(
        url: try await cri.runtime.attach(.with { $0.containerID = reader; $0.stdin = true; $0.stdout = true; $0.stderr = true }).url,
        stdin: Self.bytes("hello\n"))
      #expect(attached.stdoutText.contains("got-hello"), "\(attached)")
    }
  }

  @Test(arguments: [StreamingTransport.spdy, .webSocket])
  func portForwardReachesAServerInsideThePod(transport: StreamingTransport) async throws {
    try await kit.withPod { cri, _, pod in
      _ = try await running(cri, pod: pod, "httpd", "mkdir -p /tmp/www && echo forwarded > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www")
      var body = ""
      // Until httpd listens, the forward fails (over WebSocket the server
      // closes the connection): retry.
      for _ in 0..<100 where !body.contains("forwarded") {
        let url = try await cri.runtime.portForward(.with { $0.podSandboxID = pod; $0.port = [8080] }).url
        do {
          let connection = try await StreamingClient.portForward(url: url, port: 8080, transport: transport)
          try await connection.send(Array("GET / HTTP/1.0\r\n\r\n".utf8))
          var received: [UInt8] = []
          for await chunk in connection.received { received += chunk }
          await connection.close()
          body = String(decoding: received, as: UTF8.self)
        } catch {
          body = "\(error)"
        }
        if !body.contains("forwarded") { try await Task.sleep(for: .milliseconds(100)) }
      }
      #expect(body.hasPrefix("HTTP/1.1 200") && body.hasSuffix("forwarded\n"), "body: \(body)")
    }
  }

  @Test func aLargeUploadThroughPortForwardArrivesWhole() async throws {
    try await kit.withPod { cri, _, pod in
      // A sink that counts the bytes of each connection (nc -e, so nc does
      // not end the connection when its own stdin is empty). It starts
      // reading late, so the socket's buffers fill up on the way.
      let sink = try await running(cri, pod: pod, "sink", "while true; do nc -l -p 9000 -e sh -c 'sleep 0.5; wc -c > /tmp/received'; done")
      func received() async throws -> String {
        let count = try await cri.runtime.execSync(.with { $0.containerID = sink; $0.cmd = ["cat", "/tmp/received"] })
        return String(decoding: count.stdout, as: UTF8.self).filter(\.isNumber)
      }
      func upload(_ bytes: [UInt8], transport: StreamingTransport = .spdy) async throws {
        let url = try await cri.runtime.portForward(.with { $0.podSandboxID = pod; $0.port = [9000] }).url
        let connection = try await StreamingClient.portForward(url: url, port: 9000, transport: transport)
        for start in stride(from: 0, to: bytes.count, by: 64 << 10) {
          try await connection.send(Array(bytes[start..<min(start + (64 << 10), bytes.count)]))
        }
        try await connection.closeWrite()
        for await _ in connection.received {}
        await connection.close()
      }
      // Wait for the listener with one-byte uploads.
      for _ in 0..<100 where try await received() != "1" {
        try? await upload([1])
        try await Task.sleep(for: .milliseconds(50))
      }
      let payload = [UInt8](repeating: 0x5a, count: 8 << 20)
      try await upload(payload)
      var count = ""
      for _ in 0..<200 where count != "\(8 << 20)" {
        try await Task.sleep(for: .milliseconds(50))
        count = try await received()
      }
      #expect(count == "\(8 << 20)", "every byte reached the pod")
    }
  }

  @Test func tokensAreSingleUseAndBadRequestsAreRefused() async throws {
    try await kit.withPod { cri, _, pod in
      let id = try await running(cri, pod: pod, "target")
      let url = try await execURL(cri, id, ["true"])
      #expect(try await StreamingClient.exec(url: url).exitCode == 0)
      await #expect(throws: StreamingClientError.self, "a used token is 404") { try await StreamingClient.exec(url: url) }
      do {
        _ = try await StreamingClient.exec(url: url)
      } catch let error as StreamingClientError {
        #expect("\(error)".contains("404"), "\(error)")
      }
      let unknown = String(url[..<url.lastIndex(of: "/")!]) + "/notatoken"
      await #expect(throws: StreamingClientError.self) { try await StreamingClient.exec(url: unknown) }

      // The CRI calls check what they can before handing out a URL.
      #expect(await rpcCode { try await cri.runtime.exec(.with { $0.containerID = id; $0.cmd = ["true"]; $0.tty = true; $0.stdout = true; $0.stderr = true }) } == .invalidArgument)
      #expect(await rpcCode { try await cri.runtime.exec(.with { $0.containerID = id; $0.cmd = ["true"] }) } == .invalidArgument, "no stream")
      #expect(await rpcCode { try await cri.runtime.exec(.with { $0.containerID = id; $0.stdout = true }) } == .invalidArgument, "no command")
      #expect(await rpcCode { try await cri.runtime.exec(.with { $0.containerID = "feedface"; $0.cmd = ["true"]; $0.stdout = true }) } == .notFound)
      #expect(await rpcCode { try await cri.runtime.portForward(.with { $0.podSandboxID = "feedface"; $0.port = [80] }) } == .notFound)
      _ = try await cri.runtime.stopContainer(.with { $0.containerID = id; $0.timeout = 5 })
      #expect(await rpcCode { try await cri.runtime.exec(.with { $0.containerID = id; $0.cmd = ["true"]; $0.stdout = true }) } == .failedPrecondition)
      #expect(await rpcCode { try await cri.runtime.attach(.with { $0.containerID = id; $0.stdout = true }) } == .failedPrecondition)
      _ = pod
    }
  }

  @Test(arguments: RuntimeType.allCases)
  func aClientKilledMidStreamEndsTheExecdProcess(_ runtime: RuntimeType) async throws {
    try await kit.withPod(runtime: runtime) { cri, _, pod in
      let id = try await running(cri, pod: pod, "victim")
      let url = try await execURL(cri, id, ["sh", "-c", "echo $$ > /tmp/exec.pid; exec sleep 1000"])
      let session = Task { try await StreamingClient.exec(url: url) }
      var pid = ""
      for _ in 0..<100 where pid.isEmpty {
        let read = try await cri.runtime.execSync(.with { $0.containerID = id; $0.cmd = ["cat", "/tmp/exec.pid"] })
        pid = String(decoding: read.stdout, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
        if pid.isEmpty { try await Task.sleep(for: .milliseconds(50)) }
      }
      #expect(!pid.isEmpty)
      session.cancel()
      _ = try? await session.value
      var gone = false
      for _ in 0..<100 where !gone {
        let check = try await cri.runtime.execSync(.with { $0.containerID = id; $0.cmd = ["cat", "/proc/\(pid)/comm"] })
        gone = check.exitCode != 0
        if !gone { try await Task.sleep(for: .milliseconds(50)) }
      }
      #expect(gone, "the exec'd sleep (pid \(pid) in the container) was killed with its session")
      // The daemon keeps serving.
      #expect(try await StreamingClient.exec(url: try await execURL(cri, id, ["true"])).exitCode == 0)
    }
  }

  /// A self-signed certificate for 127.0.0.1 with `name` as its subject.
  static func makeCertificate(in directory: String, name: String) async throws {
    let made = try await Processes.run("/usr/bin/openssl", [
      "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=\(name)",
      "-addext", "subjectAltName=IP:127.0.0.1",
      "-keyout", directory + "/key.pem.new", "-out", directory + "/cert.pem.new",
    ])
    #expect(made.status == 0, "\(made.stderr)")
    // Replaced by rename, as certificate rotation tools do.
    #expect(rename(directory + "/key.pem.new", directory + "/key.pem") == 0)
    #expect(rename(directory + "/cert.pem.new", directory + "/cert.pem") == 0)
  }

  @Test func withTLSTheURLsAreHTTPSAndARotatedCertificateIsServed() async throws {
    let certificates = try Files.makeTemporaryDirectory(prefix: "crio-tls")
    defer { Files.removeTree(certificates) }
    try await Self.makeCertificate(in: certificates, name: "first-cert")
    let config = """
      [crio.api]
      stream_enable_tls = true
      stream_tls_cert = "\(certificates)/cert.pem"
      stream_tls_key = "\(certificates)/key.pem"
      """
    try await kit.withPod(extraConfig: config) { cri, _, pod in
      let id = try await running(cri, pod: pod, "tls")
      let url = try await execURL(cri, id, ["true"])
      #expect(url.hasPrefix("https://127.0.0.1:"), "\(url)")
      let authority = String(url.dropFirst("https://".count).prefix { $0 != "/" })
      func served() async throws -> String {
        let shown = try await Processes.run("/bin/sh", [
          "-c", "openssl s_client -connect \(authority) </dev/null 2>/dev/null | openssl x509 -noout -subject",
        ])
        return shown.stdout
      }
      #expect(try await served().contains("first-cert"))
      let unknown = String(url[..<url.lastIndex(of: "/")!]) + "/notatoken"
      let status = try await Processes.run("/usr/bin/curl", ["-sk", "-o", "/dev/null", "-w", "%{http_code}", unknown])
      #expect(status.stdout == "404", "an unknown token over TLS: \(status)")
      let plain = try await Processes.run("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "http://" + authority + "/exec/x"])
      #expect(plain.stdout != "404", "plain HTTP is not served: \(plain)")

      try await Self.makeCertificate(in: certificates, name: "rotated-cert")
      #expect(try await served().contains("rotated-cert"), "the next connection gets the new certificate")
    }
  }
}
