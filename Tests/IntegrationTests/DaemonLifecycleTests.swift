#if canImport(Glibc)
import Glibc
#endif
import CRIAPI
import CRIClient
import Testing
import Support

/// The daemon as a node operator runs it: socket set-up, a second daemon,
/// stale sockets, signals.
@Suite struct DaemonLifecycleTests {
  @Test func socketIsRootOnlyAndParentsAreCreated() async throws {
    let dir = try Files.makeTemporaryDirectory(prefix: "crio-s")
    defer { Files.removeTree(dir) }
    let socket = dir + "/a/b/crio.sock"
    let daemon = try DaemonProcess(socket: socket)
    do {
      try await daemon.waitUntilReady()
      var info = stat()
      #expect(stat(socket, &info) == 0)
      #expect(info.st_mode & S_IFMT == S_IFSOCK)
      #expect(info.st_mode & 0o777 == 0o660)
      #expect(info.st_uid == 0)
      let status = await daemon.stop()
      #expect(status == 0, "exit status \(String(describing: status)): \(daemon.log())")
    } catch {
      Issue.record("\(error)")
    }
    await daemon.cleanUp()
  }

  @Test func aStaleSocketIsReplaced() async throws {
    let dir = try Files.makeTemporaryDirectory(prefix: "crio-s")
    defer { Files.removeTree(dir) }
    let socket = dir + "/crio.sock"
    // Leave a socket file nobody listens on, as a killed daemon does.
    let fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
      let bytes = Array(socket.utf8)
      raw.copyBytes(from: bytes)
      raw[bytes.count] = 0
    }
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    #expect(bound == 0)
    close(fd)
    #expect(access(socket, F_OK) == 0)

    let daemon = try DaemonProcess(socket: socket)
    do {
      try await daemon.waitUntilReady()
      let version = try await CRIConnection.with(socket: socket) { try await $0.runtime.version(Runtime_V1_VersionRequest()) }
      #expect(version.runtimeName == "cri-o")
    } catch {
      Issue.record("\(error)\n\(daemon.log())")
    }
    await daemon.cleanUp()
  }

  @Test func aSecondDaemonOnTheSameSocketExitsWithAClearMessage() async throws {
    try await withDaemon { first in
      let second = try DaemonProcess(socket: first.socket)
      let status = await second.waitForExit()
      #expect(status == 1)
      #expect(second.log().contains("another runtime daemon is already serving \(first.socket)"))
      await second.cleanUp()
      // The first daemon's socket survives the attempt.
      let version = try await CRIConnection.with(socket: first.socket) { try await $0.runtime.version(Runtime_V1_VersionRequest()) }
      #expect(version.runtimeApiVersion == "v1")
    }
  }

  @Test(arguments: [SIGTERM, SIGINT])
  func aSignalStopsTheDaemonGracefullyAndRemovesTheSocket(signal: Int32) async throws {
    let daemon = try DaemonProcess()
    do {
      try await daemon.waitUntilReady()
      #expect(await daemon.stop(signal: signal) == 0)
      #expect(access(daemon.socket, F_OK) != 0, "the socket file is removed")
      #expect(daemon.log().contains("shutting down"))
    } catch {
      Issue.record("\(error)")
    }
    await daemon.cleanUp()
  }

  @Test func sighupReloadsTheLogLevel() async throws {
    try await withDaemon(config: "[crio.runtime]\nlog_level = \"info\"\n") { daemon in
      try Files.write(daemon.configDir + "/50-debug.conf", "[crio.runtime]\nlog_level = \"debug\"\n")
      daemon.send(signal: SIGHUP)
      #expect(await eventually { daemon.log().contains("Reloaded log_level") })
      // Debug logging is now on: an RPC is logged.
      _ = try await CRIConnection.with(socket: daemon.socket) { try await $0.runtime.version(Runtime_V1_VersionRequest()) }
      #expect(await eventually { daemon.log().contains("runtime.v1.RuntimeService/Version") })
    }
  }

  /// log_filter: only matching messages are written; SIGHUP changes the filter.
  @Test func logFilterKeepsOnlyMatchingMessagesAndReloads() async throws {
    try await withDaemon(config: "[crio.runtime]\nlog_filter = \"^Serving\"\n") { daemon in
      let messages = { daemon.log().split(separator: "\n").filter { $0.contains(" msg=") } }
      #expect(messages().count == 1 && messages().allSatisfy { $0.contains("msg=\"Serving CRI on the socket\"") }, "\(messages())")
      try Files.write(daemon.configDir + "/50-filter.conf", "[crio.runtime]\nlog_filter = \"^(Reloaded|Configuration)\"\n")
      daemon.send(signal: SIGHUP)
      #expect(await eventually { daemon.log().contains("msg=\"Configuration reloaded\"") })
      #expect(messages().count == 3, "\(messages())")
    }
  }

  @Test func aBrokenReloadKeepsTheRunningConfiguration() async throws {
    try await withDaemon { daemon in
      try Files.write(daemon.configDir + "/50-bad.conf", "[crio.runtime]\ncgroup_manager = \"bogus\"\n")
      daemon.send(signal: SIGHUP)
      #expect(await eventually { daemon.log().contains("reload failed") })
      let version = try await CRIConnection.with(socket: daemon.socket) { try await $0.runtime.version(Runtime_V1_VersionRequest()) }
      #expect(version.runtimeName == "cri-o")
    }
  }

  @Test func invalidConfigurationStopsStartUpNamingFileAndKey() async throws {
    let daemon = try DaemonProcess(config: "[crio.runtime]\ncgroup_manager = \"banana\"\n")
    let status = await daemon.waitForExit()
    #expect(status == 1)
    let log = daemon.log()
    #expect(log.contains(daemon.configFile))
    #expect(log.contains("cgroup_manager"))
    #expect(!log.contains("Fatal error"), "no crash or stack trace")
    await daemon.cleanUp()
  }

  /// A VM runtime handler is not built yet: start-up stops naming the
  /// handler, instead of running its containers under runc.
  @Test(arguments: ["vm"])
  func anUnsupportedRuntimeTypeStopsStartUp(type: String) async throws {
    let daemon = try DaemonProcess(config: "[crio.runtime.runtimes.kata]\nruntime_type = \"\(type)\"\n")
    #expect(await daemon.waitForExit() == 1)
    // The log quotes the message logrus-style (inner quotes escaped).
    #expect(daemon.log().contains(#"[crio.runtime.runtimes.kata] runtime_type = \"\#(type)\" is not supported"#), "\(daemon.log())")
    await daemon.cleanUp()
  }

  @Test func aWrongTypeStopsStartUp() async throws {
    let daemon = try DaemonProcess(config: "[crio.api]\ngrpc_max_recv_msg_size = \"big\"\n")
    #expect(await daemon.waitForExit() == 1)
    #expect(daemon.log().contains("grpc_max_recv_msg_size"))
    await daemon.cleanUp()
  }

  @Test func unknownKeysOnlyWarn() async throws {
    try await withDaemon(config: "[crio.runtime]\nno_such_key = true\n") { daemon in
      #expect(daemon.log().contains("no_such_key"))
      #expect(daemon.log().contains("level=warning"))
    }
  }
}
