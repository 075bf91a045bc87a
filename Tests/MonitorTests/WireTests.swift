import MonitorWire
import Testing

/// The pod monitor's protocol: every message survives a round trip, and
/// anything malformed is an error, never a crash or a huge allocation.
struct WireTests {
  static let requests: [MonitorRequest] = [
    .hello,
    .create(CreateContainer(id: "c1", bundle: "/run/b/c1", logPath: "/var/log/pods/x/0.log", terminal: true, stdin: true, stdinOnce: false)),
    .create(CreateContainer(id: "é-ünïcode", bundle: "/b", logPath: "/l", terminal: false, stdin: false, stdinOnce: true)),
    .start(id: "c1"),
    .execSync(id: "c1", command: ["sh", "-c", "echo hi", ""], timeoutMilliseconds: 1500, outputLimit: 16 << 20),
    .resize(id: "c1", width: 65535, height: 0),
    .reopenLog(id: "c1"),
    .shutdown,
    .exec(id: "c1", command: ["sh"], tty: true, stdin: true),
    .exec(id: "c1", command: ["cat", "-"], tty: false, stdin: false),
  ]

  static let responses: [MonitorResponse] = [
    .ok,
    .hello(pid: 4242),
    .created(pid: -1),
    .execSync(exitCode: 137, stdout: Array("out".utf8), stderr: [0, 255, 10], timedOut: false),
    .execSync(exitCode: -1, stdout: [], stderr: [], timedOut: true),
    .error(.notFound, "no such container"),
    .error(.badRequest, ""),
    .execStarted(runc: 77, pidFile: "/tmp/crio-exec-x/pid"),
    .execExited(code: 130),
  ]

  private static func payload(_ frame: [UInt8]) throws -> [UInt8] {
    let length = try Frame.length(header: Array(frame[..<4]), limit: MonitorProtocol.maximumResponse)
    #expect(length == frame.count - 4)
    return Array(frame[4...])
  }

  @Test(arguments: requests)
  func requestRoundTrip(_ request: MonitorRequest) throws {
    #expect(try Frame.decodeRequest(Self.payload(Frame.encode(request))) == request)
  }

  @Test(arguments: responses)
  func responseRoundTrip(_ response: MonitorResponse) throws {
    #expect(try Frame.decodeResponse(Self.payload(Frame.encode(response))) == response)
  }

  @Test func everyTruncationOfEveryRequestIsAnError() throws {
    for request in Self.requests {
      let payload = try Self.payload(Frame.encode(request))
      for end in 0..<payload.count {
        #expect(throws: WireError.self) { try Frame.decodeRequest(Array(payload[..<end])) }
      }
    }
  }

  @Test func trailingBytesAreRefused() throws {
    let payload = try Self.payload(Frame.encode(MonitorRequest.start(id: "c1"))) + [0]
    #expect(throws: WireError.trailingBytes(1)) { try Frame.decodeRequest(payload) }
  }

  @Test func anotherVersionIsNamed() {
    #expect(throws: WireError.unsupportedVersion(99)) { try Frame.decodeRequest([99, 1]) }
  }

  @Test func unknownKindsAreRefused() {
    #expect(throws: WireError.unknownKind(200)) { try Frame.decodeRequest([MonitorProtocol.version, 200]) }
    #expect(throws: WireError.unknownKind(0)) { try Frame.decodeResponse([MonitorProtocol.version, 0]) }
  }

  @Test func oversizedFramesAreRefusedFromTheHeader() {
    #expect(throws: WireError.oversized(length: Int(UInt32.max), limit: MonitorProtocol.maximumRequest)) {
      try Frame.length(header: [255, 255, 255, 255], limit: MonitorProtocol.maximumRequest)
    }
    #expect(throws: WireError.truncated) { try Frame.length(header: [0, 0, 0, 1], limit: 100) }
  }

  /// A length field that claims more than the message holds is refused
  /// before anything is allocated for it.
  @Test func hugeFieldLengthsAreRefused() {
    var writer = WireWriter()
    writer.u8(MonitorProtocol.version)
    writer.u8(4)  // execSync
    writer.string("c1")
    writer.u32(UInt32.max)  // the command's count
    #expect(throws: WireError.truncated) { try Frame.decodeRequest(writer.bytes) }
  }

  @Test(arguments: ["", ".", "..", "a/b", "a\u{0}b", String(repeating: "x", count: 129)])
  func badContainerIDsAreRefused(_ id: String) throws {
    let payload = try Self.payload(Frame.encode(MonitorRequest.start(id: id)))
    #expect(throws: WireError.self) { try Frame.decodeRequest(payload) }
  }

  @Test func invalidTextAndBooleansAreRefused() {
    var text = WireWriter()
    text.u8(MonitorProtocol.version)
    text.u8(3)  // start
    text.data([0xff, 0xfe])
    #expect(throws: WireError.invalidText) { try Frame.decodeRequest(text.bytes) }

    var flag = WireWriter()
    flag.u8(MonitorProtocol.version)
    flag.u8(2)  // create
    for field in ["c1", "/b", "/l"] { flag.string(field) }
    flag.u8(7)
    flag.bool(false)
    flag.bool(false)
    #expect(throws: WireError.invalidValue("boolean 7")) { try Frame.decodeRequest(flag.bytes) }
  }

  @Test func relativePathsAreRefused() throws {
    let request = MonitorRequest.create(CreateContainer(id: "c1", bundle: "b", logPath: "/l", terminal: false, stdin: false, stdinOnce: false))
    #expect(throws: WireError.self) { try Frame.decodeRequest(Self.payload(Frame.encode(request))) }
  }

  /// Random bytes never crash the decoder.
  @Test func randomBytesDecodeOrFail() {
    var generator = SystemRandomNumberGenerator()
    for _ in 0..<5000 {
      let count = Int.random(in: 0...64, using: &generator)
      var bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
      if count > 1, Bool.random(using: &generator) {
        bytes[0] = MonitorProtocol.version
        bytes[1] = UInt8.random(in: 1...8, using: &generator)
      }
      _ = try? Frame.decodeRequest(bytes)
      _ = try? Frame.decodeResponse(bytes)
    }
  }

  @Test func runcErrorsAreReadFromItsLog() {
    let log = """
      time="2024-01-01T00:00:00Z" level=warning msg="ignored"
      time="2024-01-01T00:00:00Z" level=error msg="exec: \\"nope\\": executable file not found"
      """
    #expect(RuncLog.errors(log) == "exec: \"nope\": executable file not found")
    #expect(RuncLog.errors("  plain failure\n") == "plain failure")
  }
}
