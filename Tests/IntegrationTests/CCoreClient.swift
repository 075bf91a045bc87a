#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import OCI
import Support

/// The CRI client on gRPC C-core (grpcio) in Python/cri_client.py: C-core
/// holds a server to HTTP/2 rules grpc-swift's client lets pass, as kubelet's
/// grpc-go does not for others. It runs in the virtual environment
/// Scripts/install-deps.sh --test makes (or `CRIO_TEST_PYTHON`).
enum CCoreClient {
  struct Bytes: Decodable, Equatable, CustomStringConvertible {
    let length: Int
    let sha256: String
    var description: String { "\(length) bytes, sha256 \(sha256)" }

    init(length: Int, sha256: String) {
      self.length = length
      self.sha256 = sha256
    }

    /// What the client reports for `bytes`.
    init(of bytes: some DataProtocol) {
      self.init(length: bytes.count, sha256: Digest.sha256(of: bytes).hex)
    }
  }

  /// A call's outcome: `code` is the gRPC status name ("OK", "RESOURCE_EXHAUSTED"…).
  struct ExecSync: Decodable {
    let code: String
    let details: String?
    let stdout: Bytes?
    let stderr: Bytes?
    let exitCode: Int32?
  }

  struct ListContainers: Decodable {
    struct Container: Decodable {
      let id: String
      let labels: [String: Bytes]
    }
    let code: String
    let details: String?
    let containers: [Container]?
  }

  struct Status: Decodable {
    let code: String
    let details: String?
  }

  struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
  }

  static func execSync(socket: String, id: String, timeout: Int = 60, _ command: [String]) async throws -> ExecSync {
    try await run(socket, ["exec-sync", id, String(timeout)] + command)
  }

  static func listContainers(socket: String) async throws -> ListContainers {
    try await run(socket, ["list-containers"])
  }

  /// A Version request whose message is `bytes` long (plus its few bytes of framing).
  static func oversizedVersion(socket: String, bytes: Int) async throws -> Status {
    try await run(socket, ["oversized-version", String(bytes)])
  }

  static var python: String {
    getenv("CRIO_TEST_PYTHON").map { String(cString: $0) } ?? "/opt/crio-swift/test-python/bin/python3"
  }

  static var script: String {
    let here = #filePath
    return here[..<here.lastIndex(of: "/")!] + "/Python/cri_client.py"
  }

  private static func run<Answer: Decodable>(_ socket: String, _ arguments: [String]) async throws -> Answer {
    guard Files.kind(of: python) == .file else {
      throw Failure("no Python with grpcio at \(python): run Scripts/install-deps.sh --test (or set CRIO_TEST_PYTHON)")
    }
    let result = try await Processes.run(python, [script, socket] + arguments, timeout: .seconds(300))
    guard result.status == 0 else {
      throw Failure("cri_client.py \(arguments.first ?? "") exited with \(result.status): \(result.stderr)")
    }
    return try JSONDecoder().decode(Answer.self, from: Data(result.stdout.utf8))
  }
}
