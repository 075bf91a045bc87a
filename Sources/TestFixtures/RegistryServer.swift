#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import OCI
import Support
import Synchronization

/// Debian's docker-registry (distribution 2.8) on 127.0.0.1 with a free
/// port and its storage in a temporary directory, optionally behind htpasswd
/// basic auth. `stop()` (or `withRunning`) ends it and removes the directory.
public final class RegistryServer: Sendable {
  public static let executable = "/usr/bin/docker-registry"

  /// "127.0.0.1:PORT".
  public let host: String
  /// The filesystem driver's root: blobs live under docker/registry/v2/blobs.
  public let storageDirectory: String
  /// Holds the config, logs, htpasswd file and storage.
  public let directory: String
  public let pid: pid_t
  private let stopped = Mutex(false)

  private init(host: String, directory: String, pid: pid_t) {
    self.host = host
    self.directory = directory
    self.storageDirectory = directory + "/storage"
    self.pid = pid
  }

  /// Starts a registry and waits until /v2/ answers.
  public static func start(basicAuth: (user: String, password: String)? = nil) async throws -> RegistryServer {
    guard Files.kind(of: executable) == .file else {
      throw RegistryFixtureError("\(executable) is missing: apt-get install docker-registry")
    }
    // The port is free when picked but another process may take it before
    // the registry binds it; then the registry exits and another port is tried.
    var lastError: any Error = RegistryFixtureError("registry did not start")
    for _ in 0..<3 {
      let directory = try Files.makeTemporaryDirectory(prefix: "registry-fixture-")
      do {
        return try await launch(in: directory, basicAuth: basicAuth)
      } catch {
        Files.removeTree(directory)
        lastError = error
      }
    }
    throw lastError
  }

  /// Runs `body` with a started registry and stops it afterwards, whether
  /// `body` returns or throws.
  public static func withRunning<T>(
    basicAuth: (user: String, password: String)? = nil, _ body: (RegistryServer) async throws -> T
  ) async throws -> T {
    let server = try await start(basicAuth: basicAuth)
    return try await withCleanUp { try await body(server) } cleanUp: { await server.stop() }
  }

  private static func launch(in directory: String, basicAuth: (user: String, password: String)?) async throws -> RegistryServer {
    let port = try freePort()
    let host = "127.0.0.1:\(port)"
    var config = """
      version: 0.1
      log:
        level: error
        accesslog:
          disabled: true
      storage:
        filesystem:
          rootdirectory: \(directory)/storage
        delete:
          enabled: true
      http:
        addr: \(host)
        secret: fixture-secret

      """
    if let basicAuth {
      let result = try await Processes.run("/usr/bin/htpasswd", ["-Bbn", basicAuth.user, basicAuth.password])
      guard result.status == 0 else {
        throw RegistryFixtureError("htpasswd failed (is apache2-utils installed?): \(result.stderr)")
      }
      try Files.write(directory + "/htpasswd", result.stdout)
      config += """
        auth:
          htpasswd:
            realm: test
            path: \(directory)/htpasswd

        """
    }
    try Files.write(directory + "/config.yml", config)
    let pid = try Processes.spawn(
      executable, ["serve", directory + "/config.yml"], stdout: directory + "/registry.log", stderr: directory + "/registry.log")
    let server = RegistryServer(host: host, directory: directory, pid: pid)
    do {
      try await server.waitUntilAnswering(basicAuth: basicAuth != nil)
      return server
    } catch {
      await server.stop(removingDirectory: false)
      throw error
    }
  }

  /// Polls GET /v2/ until any HTTP answer (200, or 401 behind auth).
  private func waitUntilAnswering(basicAuth: Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(20)
    while ContinuousClock.now < deadline {
      if let status = Processes.reap(pid) {
        stopped.withLock { $0 = true }
        let log = (try? Files.read(directory + "/registry.log")) ?? ""
        throw RegistryFixtureError("docker-registry exited with status \(status): \(log.suffix(2000))")
      }
      // A plain connect fails at once while nothing listens; only then is
      // an HTTP request (which could wait out its timeout) worth sending.
      if Self.acceptsConnections(host) {
        var request = HTTPClientRequest(url: "http://\(host)/v2/")
        request.method = .GET
        if let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(2)) {
          _ = try? await response.body.collect(upTo: 1 << 20)
          // Only our own registry answers as configured (another process
          // may have taken the port first; then ours exits and we retry).
          guard (response.status.code == 401) == basicAuth else {
            throw RegistryFixtureError("another server answers on \(host)")
          }
          return
        }
      }
      try await Task.sleep(for: .milliseconds(20))
    }
    throw RegistryFixtureError("docker-registry on \(host) did not answer within 20 s")
  }

  /// Where the registry keeps a blob's bytes, for tests that tamper with one.
  public func blobDataPath(_ digest: Digest) -> String {
    "\(storageDirectory)/docker/registry/v2/blobs/\(digest.algorithm)/\(digest.hex.prefix(2))/\(digest.hex)/data"
  }

  /// Ends the registry (SIGTERM, then SIGKILL after 5 s) and removes its
  /// directory. Safe to call more than once.
  public func stop() async {
    await stop(removingDirectory: true)
  }

  private func stop(removingDirectory: Bool) async {
    let alreadyStopped = stopped.withLock { state in
      defer { state = true }
      return state
    }
    if !alreadyStopped {
      kill(pid, SIGTERM)
      if await Processes.wait(pid, timeout: .seconds(5)) == nil {
        kill(pid, SIGKILL)
        _ = await Processes.wait(pid, timeout: .seconds(5))
      }
    }
    if removingDirectory { Files.removeTree(directory) }
  }

  /// A last resort for a test that forgot `stop()`: no process outlives it.
  deinit {
    if !stopped.withLock({ $0 }) {
      kill(pid, SIGKILL)
      _ = Processes.reap(pid)
      Files.removeTree(directory)
    }
  }

  /// True when a TCP connection to "127.0.0.1:PORT" is accepted.
  static func acceptsConnections(_ host: String) -> Bool {
    guard let port = host.split(separator: ":").last.flatMap({ UInt16($0) }) else { return false }
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = port.bigEndian
    return withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
      }
    }
  }

  /// Ports this process has handed out: parallel tests must never be given
  /// the same one, or one test's client would talk to another's registry.
  private static let handedOut = Mutex<Set<Int>>([])

  /// A TCP port on 127.0.0.1 that nothing listens on right now and that no
  /// other caller in this process was given.
  public static func freePort() throws -> Int {
    for _ in 0..<100 {
      let port = try unusedPort()
      if handedOut.withLock({ $0.insert(port).inserted }) { return port }
    }
    throw RegistryFixtureError("no free port on 127.0.0.1 that this process has not handed out already")
  }

  private static func unusedPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw SystemError("socket") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
        bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
      }
    }
    guard bound else { throw SystemError("bind", path: "127.0.0.1:0") }
    return Int(UInt16(bigEndian: address.sin_port))
  }
}
