#if canImport(Glibc)
import Glibc
#endif
import CRIAPI
import CRIClient
import Testing
import Support

/// What systemd sees of the daemon: sd_notify states on `$NOTIFY_SOCKET`
/// (a socket of the test's, standing in for systemd's) and journal-ready
/// log lines when stderr is the journal's stream.
@Suite struct SystemdTests {
  /// A datagram socket as systemd's notification socket.
  final class NotifySocket {
    let path: String
    let fd: Int32

    init(directory: String) throws {
      path = directory + "/notify"
      fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
      guard var (address, length) = UnixSocket.address(path) else { throw SystemError(operation: "bind", path: path, code: ENAMETOOLONG) }
      let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
      }
      guard bound == 0 else { throw SystemError("bind", path: path) }
    }

    deinit { close(fd) }

    /// The next state sent, waiting up to `timeout`.
    func next(timeout: Duration = .seconds(20)) async -> String? {
      guard await Readiness.shared.waitReadable(fd, timeout: timeout) else { return nil }
      var buffer = [UInt8](repeating: 0, count: 4096)
      let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
      return count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : nil
    }
  }

  @Test func readyComesOnceTheSocketAnswersAndReloadsAreAnnounced() async throws {
    let directory = try Files.makeTemporaryDirectory(prefix: "crio-notify")
    defer { Files.removeTree(directory) }
    let notify = try NotifySocket(directory: directory)
    let daemon = try DaemonProcess(environment: ["NOTIFY_SOCKET=\(notify.path)"])
    do {
      #expect(await notify.next() == "READY=1")
      // Told ready: the CRI answers at once, no retry.
      let name = try await CRIConnection.with(socket: daemon.socket) { cri in
        try await cri.runtime.version(Runtime_V1_VersionRequest()).runtimeName
      }
      #expect(name == "cri-o")
      daemon.send(signal: SIGHUP)
      let reloading = await notify.next()
      #expect(reloading?.hasPrefix("RELOADING=1\nMONOTONIC_USEC=") == true, "\(reloading ?? "nothing")")
      #expect(await notify.next() == "READY=1")
      #expect(await daemon.stop() == 0)
      #expect(await notify.next() == "STOPPING=1")
    } catch {
      Issue.record("\(error)\n\(daemon.log())")
    }
    await daemon.cleanUp()
  }

  @Test func linesCarryTheirPriorityAndNoTimeWhenStderrIsTheJournal() async throws {
    let directory = try Files.makeTemporaryDirectory(prefix: "crio-journal")
    try Files.write(directory + "/daemon.log", "")
    var info = stat()
    #expect(stat(directory + "/daemon.log", &info) == 0)
    let daemon = try DaemonProcess(reusing: directory, environment: ["JOURNAL_STREAM=\(info.st_dev):\(info.st_ino)"])
    do {
      try await daemon.waitUntilReady()
      let lines = daemon.log().split(separator: "\n")
      let serving = lines.first { $0.contains("Serving CRI on the socket") }
      #expect(serving?.hasPrefix("<6>level=info msg=") == true, "\(lines)")
      #expect(!lines.contains { $0.contains("time=") })
    } catch {
      Issue.record("\(error)\n\(daemon.log())")
    }
    await daemon.cleanUp()
  }
}
