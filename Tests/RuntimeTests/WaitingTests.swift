import Support
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The kernel-driven waits the runtime is built on (no sleeps, no polling):
/// descriptors through epoll, processes through pidfds, files through inotify;
/// and the one fallback, polling a process where the kernel has no pidfds.
@Suite struct WaitingTests {
  /// (read end, write end).
  static func pipePair() throws -> [Int32] {
    var fds: [Int32] = [-1, -1]
    try #require(pipe(&fds) == 0)
    return fds
  }

  @Test func aPipeWaitEndsWhenDataArrivesOrTheTimeRunsOut() async throws {
    let fds = try Self.pipePair()
    defer { close(fds[0]); close(fds[1]) }
    #expect(await Readiness.shared.waitReadable(fds[0], timeout: .milliseconds(50)) == false, "nothing written yet")
    let writer = Task {
      try? await Task.sleep(for: .milliseconds(30))
      _ = write(fds[1], "x", 1)
    }
    #expect(await Readiness.shared.waitReadable(fds[0], timeout: .seconds(60)), "readable once written")
    await writer.value
  }

  @Test func manyWaitsOnOneDescriptorAllEnd() async throws {
    let fds = try Self.pipePair()
    defer { close(fds[0]) }
    let results = await withTaskGroup(of: Bool.self) { group in
      for _ in 0..<20 { group.addTask { await Readiness.shared.waitReadable(fds[0], timeout: .seconds(10)) } }
      try? await Task.sleep(for: .milliseconds(20))
      close(fds[1])  // end of file: readable for every waiter
      return await group.reduce(into: [Bool]()) { $0.append($1) }
    }
    #expect(results.count == 20 && results.allSatisfy { $0 })
  }

  @Test func aCancelledWaitEnds() async throws {
    let fds = try Self.pipePair()
    defer { close(fds[0]); close(fds[1]) }
    let waiter = Task { await Readiness.shared.waitReadable(fds[0]) }
    try await Task.sleep(for: .milliseconds(20))
    waiter.cancel()
    #expect(await waiter.value == false)
  }

  /// Kernels before 5.3 (RHEL 8's) and valgrind have no pidfd_open: the
  /// wait looks at the process instead. Called directly, since this kernel
  /// has pidfds.
  @Test func withoutPidfdsAWaitStillSeesTheEndAndCanTimeOut() async throws {
    let dir = try Files.makeTemporaryDirectory(prefix: "crio-wait")
    defer { Files.removeTree(dir) }
    let quick = try Processes.spawn("/bin/sh", ["-c", "sleep 0.1; exit 3"], stdout: dir + "/out", stderr: dir + "/out")
    #expect(await Processes.pollForEnd(quick, timeout: .seconds(20)))
    #expect(Processes.reap(quick) == 3, "ended as a zombie, reaped now")
    let slow = try Processes.spawn("/bin/sleep", ["30"], stdout: dir + "/out", stderr: dir + "/out")
    #expect(await Processes.pollForEnd(slow, timeout: .milliseconds(50)) == false)
    kill(slow, SIGKILL)
    #expect(await Processes.pollForEnd(slow, timeout: .seconds(20)))
    #expect(Processes.reap(slow) == 128 + SIGKILL)
  }

  @Test func aChildIsReapedWhenItEndsAndAWaitCanTimeOut() async throws {
    let dir = try Files.makeTemporaryDirectory(prefix: "crio-wait")
    defer { Files.removeTree(dir) }
    let quick = try Processes.spawn("/bin/sh", ["-c", "exit 7"], stdout: dir + "/out", stderr: dir + "/out")
    #expect(await Processes.wait(quick, timeout: .seconds(20)) == 7)
    let slow = try Processes.spawn("/bin/sleep", ["30"], stdout: dir + "/out", stderr: dir + "/out")
    #expect(await Processes.wait(slow, timeout: .milliseconds(50)) == nil)
    kill(slow, SIGKILL)
    #expect(await Processes.wait(slow, timeout: .seconds(20)) == 128 + SIGKILL)
  }

  @Test func aDirectoryWatchSeesFilesWrittenOrRenamedIn() async throws {
    let dir = try Files.makeTemporaryDirectory(prefix: "crio-watch")
    defer { Files.removeTree(dir) }
    let watch = try DirectoryWatch(dir)
    let seen = Task {
      var names: Set<String> = []
      for await name in watch.names() {
        if let name { names.insert(name) }
        if names.contains("renamed") { break }
      }
      return names
    }
    try Files.write(dir + "/written", "1")
    try Files.write(dir + "/.staged", "2")
    #expect(rename(dir + "/.staged", dir + "/renamed") == 0)
    let names = await seen.value
    #expect(names.contains("written") && names.contains("renamed"), "\(names)")
    #expect(await watch.waitFor(timeout: .milliseconds(50)) { $0 == "never" } == false)
  }
}
