#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import CRIAPI
import CRIClient
import GRPCCore
import Support
import SwiftProtobuf
import Synchronization
import TestFixtures

/// The supervision core's figures: read RPCs with 100 running containers
/// (answered from memory), the delay from a container's exit to its
/// CONTAINER_STOPPED_EVENT, CreateContainer + StartContainer, and Version's
/// latency idle and while 3 large pulls unpack and 10 pods start.
struct SupervisionBench: AsyncParsableCommand {
  static let configuration = CommandConfiguration(commandName: "supervision")

  @Option(help: "Running containers for the read figures (in pods of 10).") var containers = 100
  @Option(help: "Calls timed per read RPC.") var calls = 500

  func run() async throws {
    try await RegistryServer.withRunning { registry in
      let image = "\(registry.host)/sleeper:1"
      try await BenchImage.push(to: registry, repository: "sleeper", applets: ["sh", "sleep"], cmd: ["/bin/sleep", "100000"])
      for seed in 1...3 {
        _ = try await BenchImage.pushRandom(to: registry, repository: "large", tag: "\(seed)", layers: 5, mibPerLayer: 10, seed: UInt64(seed))
      }
      let dir = try Files.makeTemporaryDirectory(prefix: "crio-bench")
      defer { Files.removeTree(dir) }
      let daemon = try DaemonProcess(config: try registry.pullConfiguration(in: dir) + "\n[crio.runtime]\nenable_pod_events = true\n")
      try await withCleanUp {
        try await daemon.waitUntilReady(timeout: .seconds(30))
        try await CRIConnection.with(socket: daemon.socket) { cri in
          _ = try await cri.image.pullImage(.with { $0.image.image = image })
          let idle = try await versions(cri, count: calls)
          report("Version, idle", idle, percentiles: [50, 99])
          try await measureCreateStart(cri, image: image)
          let (pods, ids) = try await startContainers(cri, image: image)
          try await measureReads(cri, image: image, pod: pods[0], container: ids[0])
          try await measureExitEvents(cri, daemon: daemon, image: image, pod: pods[0])
          try await measureUnderLoad(cri, registry: registry, image: image)
          print("daemon RSS with \(ids.count) running containers: \(rssMiB(daemon.pid)) MiB")
        }
      } cleanUp: {
        await daemon.cleanUp()
      }
    }
  }

  func pod(_ name: String) -> Runtime_V1_PodSandboxConfig {
    .with {
      $0.metadata.name = name
      $0.metadata.namespace = "bench"
      $0.metadata.uid = "uid-" + name
      $0.linux.securityContext.namespaceOptions.pid = .container
    }
  }

  func container(_ name: String, image: String) -> Runtime_V1_ContainerConfig {
    .with {
      $0.metadata.name = name
      $0.image.image = image
      $0.command = ["/bin/sleep", "100000"]
      $0.linux.securityContext.namespaceOptions.pid = .container
    }
  }

  func versions(_ cri: CRIConnection, count: Int) async throws -> [Duration] {
    for _ in 0..<50 { _ = try await cri.runtime.version(.init()) }
    var samples: [Duration] = []
    for _ in 0..<count {
      let began = ContinuousClock.now
      _ = try await cri.runtime.version(.init())
      samples.append(ContinuousClock.now - began)
    }
    return samples
  }

  func measureCreateStart(_ cri: CRIConnection, image: String) async throws {
    let pod = try await cri.runtime.runPodSandbox(.with { $0.config = self.pod("create-start") }).podSandboxID
    var samples: [Duration] = []
    for index in 0..<20 {
      let began = ContinuousClock.now
      let id = try await cri.runtime.createContainer(.with {
        $0.podSandboxID = pod
        $0.config = container("c\(index)", image: image)
      }).containerID
      _ = try await cri.runtime.startContainer(.with { $0.containerID = id })
      samples.append(ContinuousClock.now - began)
    }
    report("CreateContainer + StartContainer", samples)
    _ = try await cri.runtime.removePodSandbox(.with { $0.podSandboxID = pod })
  }

  /// `containers` running containers in pods of 10.
  func startContainers(_ cri: CRIConnection, image: String) async throws -> (pods: [String], containers: [String]) {
    var pods: [String] = []
    var ids: [String] = []
    for index in 0..<containers {
      if index % 10 == 0 {
        pods.append(try await cri.runtime.runPodSandbox(.with { $0.config = pod("read-\(index / 10)") }).podSandboxID)
      }
      let id = try await cri.runtime.createContainer(.with {
        $0.podSandboxID = pods.last!
        $0.config = container("r\(index)", image: image)
      }).containerID
      _ = try await cri.runtime.startContainer(.with { $0.containerID = id })
      ids.append(id)
    }
    return (pods, ids)
  }

  func measureReads(_ cri: CRIConnection, image: String, pod: String, container: String) async throws {
    func timed(_ name: String, _ call: () async throws -> Void) async throws {
      for _ in 0..<20 { try await call() }
      var samples: [Duration] = []
      for _ in 0..<calls {
        let began = ContinuousClock.now
        try await call()
        samples.append(ContinuousClock.now - began)
      }
      report(name, samples, percentiles: [50, 90])
    }
    let listed = try await cri.runtime.listContainers(.init()).containers.count
    try await timed("ListContainers (\(listed) containers)") { _ = try await cri.runtime.listContainers(.init()) }
    try await timed("ContainerStatus") { _ = try await cri.runtime.containerStatus(.with { $0.containerID = container }) }
    try await timed("PodSandboxStatus") { _ = try await cri.runtime.podSandboxStatus(.with { $0.podSandboxID = pod }) }
    try await timed("ImageStatus") { _ = try await cri.image.imageStatus(.with { $0.image.image = image }) }
    try await timed("ListImages") { _ = try await cri.image.listImages(.init()) }
    try await timed("Version (same load)") { _ = try await cri.runtime.version(.init()) }
  }

  /// From SIGKILL of a container's process (from outside, as the OOM killer
  /// would) to the CONTAINER_STOPPED_EVENT a subscriber receives.
  func measureExitEvents(_ cri: CRIConnection, daemon: DaemonProcess, image: String, pod: String) async throws {
    final class Arrivals: Sendable {
      let times = Mutex<[String: ContinuousClock.Instant]>([:])
    }
    let arrivals = Arrivals()
    let ready = AsyncStream<Void>.makeStream()
    let subscriber = Task {
      try? await cri.runtime.getContainerEvents(.init()) { response in
        ready.continuation.finish()
        for try await event in response.messages where event.containerEventType == .containerStoppedEvent {
          let now = ContinuousClock.now
          arrivals.times.withLock { $0[event.containerID] = now }
        }
      }
    }
    defer { subscriber.cancel() }
    for await _ in ready.stream {}
    var samples: [Duration] = []
    for index in 0..<20 {
      let id = try await cri.runtime.createContainer(.with {
        $0.podSandboxID = pod
        $0.config = container("exit\(index)", image: image)
      }).containerID
      _ = try await cri.runtime.startContainer(.with { $0.containerID = id })
      let info = try await cri.runtime.containerStatus(.with { $0.containerID = id; $0.verbose = true }).info["info"] ?? ""
      guard let range = info.firstRange(of: "\"pid\":"), let pid = Int32(info[range.upperBound...].prefix { $0.isNumber }) else { continue }
      let killed = ContinuousClock.now
      kill(pid, SIGKILL)
      while arrivals.times.withLock({ $0[id] }) == nil { try await Task.sleep(for: .microseconds(200)) }
      samples.append(arrivals.times.withLock { $0[id]! } - killed)
      _ = try await cri.runtime.removeContainer(.with { $0.containerID = id })
    }
    report("exit -> CONTAINER_STOPPED_EVENT", samples)
  }

  /// Version round trips while 3 large images are pulled and unpacked and
  /// 10 pods with a container each start.
  func measureUnderLoad(_ cri: CRIConnection, registry: RegistryServer, image: String) async throws {
    final class Done: Sendable { let flag = Atomic<Bool>(false) }
    let done = Done()
    let load = Task {
      defer { done.flag.store(true, ordering: .releasing) }
      try await withThrowingTaskGroup(of: Void.self) { group in
        for seed in 1...3 {
          group.addTask { _ = try await cri.image.pullImage(.with { $0.image.image = "\(registry.host)/large:\(seed)" }) }
        }
        for index in 0..<10 {
          group.addTask {
            let pod = try await cri.runtime.runPodSandbox(.with { $0.config = self.pod("load-\(index)") }).podSandboxID
            let id = try await cri.runtime.createContainer(.with {
              $0.podSandboxID = pod
              $0.config = self.container("load", image: image)
            }).containerID
            _ = try await cri.runtime.startContainer(.with { $0.containerID = id })
          }
        }
        try await group.waitForAll()
      }
    }
    var samples: [Duration] = []
    let began = ContinuousClock.now
    while !done.flag.load(ordering: .acquiring) {
      let call = ContinuousClock.now
      _ = try await cri.runtime.version(.init())
      samples.append(ContinuousClock.now - call)
      try await Task.sleep(for: .milliseconds(2))
    }
    try await load.value
    print("load: 3 pulls of 5 x 10 MiB layers and 10 pods started in \(milliseconds(ContinuousClock.now - began)) ms")
    report("Version under that load", samples, percentiles: [50, 99])
  }
}
