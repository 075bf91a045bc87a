#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import CRIAPI
import CRIClient
import StreamingClient
import SwiftProtobuf

/// Exec round trips (`true`) through ExecSync and through the streaming
/// server (SPDY and WebSocket), and port-forward throughput into a pod.
struct StreamingBench: AsyncParsableCommand {
  static let configuration = CommandConfiguration(commandName: "streaming")

  @Option(help: "Exec round trips to time.") var runs = 50
  @Option(help: "MiB to send through port-forward.") var megabytes = 100

  func run() async throws {
    try await BenchPod.withDaemon(name: "streaming", applets: ["sh", "sleep", "true", "nc", "cat", "wc"]) { cri, _, pod in
      let podID = pod.id
      let id = try await pod.start("sleeper", ["/bin/sleep", "100000"])
      // A sink on port 9000 that counts what it gets (with -e, so that
      // nc does not end the connection when its own stdin is empty).
      let sink = try await pod.start("sink", ["/bin/sh", "-c", "while true; do nc -l -p 9000 -e sh -c 'wc -c > /tmp/received'; done"])

      var execSync: [Duration] = []
      for _ in 0..<runs {
        let began = ContinuousClock.now
        _ = try await cri.runtime.execSync(.with { $0.containerID = id; $0.cmd = ["/bin/true"] })
        execSync.append(ContinuousClock.now - began)
      }
      report("ExecSync true", execSync)
      for transport in [StreamingTransport.spdy, .webSocket] {
        var samples: [Duration] = []
        for _ in 0..<runs {
          let began = ContinuousClock.now
          let url = try await cri.runtime.exec(.with { $0.containerID = id; $0.cmd = ["/bin/true"]; $0.stdout = true; $0.stderr = true }).url
          _ = try await StreamingClient.exec(url: url, transport: transport)
          samples.append(ContinuousClock.now - began)
        }
        report("Exec true (CRI call + \(transport == .spdy ? "SPDY" : "WebSocket") session)", samples)
      }

      // Port-forward throughput. First wait until the sink's nc listens:
      // a one-byte transfer that the pod counts.
      for _ in 0..<100 {
        let probe = try await StreamingClient.portForward(
          url: try await cri.runtime.portForward(.with { $0.podSandboxID = podID; $0.port = [9000] }).url, port: 9000)
        try await probe.send([1])
        try await probe.closeWrite()
        for await _ in probe.received {}
        let error = await probe.errorMessage()
        await probe.close()
        try await Task.sleep(for: .milliseconds(50))
        let count = try await cri.runtime.execSync(.with { $0.containerID = sink; $0.cmd = ["/bin/cat", "/tmp/received"] })
        if error.isEmpty, String(decoding: count.stdout, as: UTF8.self).filter(\.isNumber) == "1" { break }
      }
      _ = try await cri.runtime.execSync(.with { $0.containerID = sink; $0.cmd = ["/bin/sh", "-c", "echo 0 > /tmp/received"] })
      let url = try await cri.runtime.portForward(.with { $0.podSandboxID = podID; $0.port = [9000] }).url
      let connection = try await StreamingClient.portForward(url: url, port: 9000)
      let chunk = [UInt8](repeating: 0x5a, count: 256 << 10)
      let began = ContinuousClock.now
      for _ in 0..<(megabytes * 4) { try await connection.send(chunk) }
      try await connection.closeWrite()
      for await _ in connection.received {}
      // Done when the pod has counted every byte.
      let expected = megabytes << 20
      var received = 0
      while received < expected, ContinuousClock.now - began < .seconds(120) {
        let count = try await cri.runtime.execSync(.with { $0.containerID = sink; $0.cmd = ["/bin/cat", "/tmp/received"] })
        received = Int(String(decoding: count.stdout, as: UTF8.self).filter(\.isNumber)) ?? 0
        if received < expected { try await Task.sleep(for: .milliseconds(5)) }
      }
      let took = ContinuousClock.now - began
      await connection.close()
      if received != expected {
        print("port-forward: the pod counted \(received) of \(expected) bytes; error stream: \(await connection.errorMessage())")
      }
      let seconds = Double(took.components.seconds) + Double(took.components.attoseconds) / 1e18
      print("port-forward: \(megabytes) MiB in \(milliseconds(took)) ms = \(Int(Double(megabytes) * 1.048576 / seconds)) MB/s")
    }
  }
}
