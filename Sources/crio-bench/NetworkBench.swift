#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import CRIAPI
import CRIClient
import Support
import SwiftProtobuf

/// RunPodSandbox (and its StopPodSandbox + RemovePodSandbox) with a real
/// CNI bridge network beside the loopback-only network the lifecycle bench
/// uses: what CNI adds to a pod's start.
struct NetworkBench: AsyncParsableCommand {
  static let configuration = CommandConfiguration(commandName: "network")

  @Option(help: "Pods to time per network.") var runs = 20

  func run() async throws {
    let bridge = "crbench\(UInt16.random(in: 0...UInt16.max) % 1000)"
    defer { _ = try? Processes.spawn("/sbin/ip", ["link", "del", bridge], stdout: "/dev/null", stderr: "/dev/null") }
    for network in ["loopback", "bridge"] {
      let daemon = try DaemonProcess { directory in
        guard network == "bridge" else { return }
        try Files.write(directory + "/cni/net.d/10-bench.conflist", """
          {"cniVersion": "1.0.0", "name": "bench", "plugins": [
            {"type": "bridge", "bridge": "\(bridge)", "isGateway": true, "ipMasq": false,
             "ipam": {"type": "host-local", "dataDir": "\(directory)/ipam", "ranges": [[{"subnet": "172.31.250.0/24"}]]}},
            {"type": "portmap", "capabilities": {"portMappings": true}}]}
          """)
      }
      try await withCleanUp {
        try await daemon.waitUntilReady(timeout: .seconds(30))
        try await CRIConnection.with(socket: daemon.socket) { cri in
          var run: [Duration] = [], teardown: [Duration] = []
          for index in 0..<runs {
            let config = Runtime_V1_PodSandboxConfig.with {
              $0.metadata.name = "net-\(index)"
              $0.metadata.namespace = "bench"
              $0.metadata.uid = "uid-net-\(index)"
            }
            var began = ContinuousClock.now
            let pod = try await cri.runtime.runPodSandbox(.with { $0.config = config }).podSandboxID
            run.append(ContinuousClock.now - began)
            began = ContinuousClock.now
            _ = try await cri.runtime.stopPodSandbox(.with { $0.podSandboxID = pod })
            _ = try await cri.runtime.removePodSandbox(.with { $0.podSandboxID = pod })
            teardown.append(ContinuousClock.now - began)
          }
          report("RunPodSandbox, \(network) network", run)
          report("StopPodSandbox + RemovePodSandbox, \(network) network", teardown)
        }
      } cleanUp: {
        await daemon.cleanUp()
      }
    }
  }
}
