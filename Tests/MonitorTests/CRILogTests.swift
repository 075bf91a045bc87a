import MonitorWire
import PodMonitor
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The monitor's CRI log writer against conmon's format and rotation.
struct CRILogTests {
  /// A fresh directory, removed by the caller's defer.
  static func directory() -> String {
    var template = Array("/tmp/crio-crilog-XXXXXX".utf8CString)
    return String(cString: template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!)! })
  }

  static func remove(_ directory: String) {
    for name in ["log", "log.tmp", "moved"] { unlink(directory + "/" + name) }
    rmdir(directory)
  }

  static func contents(_ path: String) -> String {
    guard let file = fopen(path, "r") else { return "" }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    while true {
      let c = fgetc(file)
      if c == EOF { break }
      bytes.append(UInt8(c))
    }
    return String(decoding: bytes, as: UTF8.self)
  }

  static let moment = timespec(tv_sec: 1_700_000_000, tv_nsec: 5)

  @Test func timestampsAreRFC3339WithNanosecondsAndOffset() {
    let stamp = CRILog.timestamp(Self.moment)
    // 2023-11-14T22:13:20.000000005 in UTC; the offset is the local zone's.
    #expect(stamp.utf8.count == 35)
    #expect(stamp.contains(".000000005"))
    let offset = stamp.suffix(6)
    #expect(offset.first == "+" || offset.first == "-")
    #expect(Array(offset)[3] == ":")
  }

  @Test func fullAndPartialLines() throws {
    let directory = Self.directory()
    defer { Self.remove(directory) }
    var log = try CRILog(path: directory + "/log", sizeLimit: -1)
    log.write(.stdout, Array("one\ntwo\nthr".utf8)[...], now: Self.moment)
    log.write(.stderr, Array("ee\n".utf8)[...], now: Self.moment)
    log.close()
    let stamp = CRILog.timestamp(Self.moment)
    #expect(Self.contents(directory + "/log") == """
      \(stamp) stdout F one
      \(stamp) stdout F two
      \(stamp) stdout P thr
      \(stamp) stderr F ee

      """)
  }

  @Test func aLineThatWouldPassTheLimitStartsAnEmptyFile() throws {
    let directory = Self.directory()
    defer { Self.remove(directory) }
    let stamp = CRILog.timestamp(Self.moment)
    let lineSize = Int64((stamp + " stdout F 0123456789\n").utf8.count)
    var log = try CRILog(path: directory + "/log", sizeLimit: lineSize * 2 + 1)
    for _ in 0..<5 { log.write(.stdout, Array("0123456789\n".utf8)[...], now: Self.moment) }
    log.close()
    // Lines 1-2 fill a file, 3-4 the next, 5 starts the last.
    #expect(Self.contents(directory + "/log") == "\(stamp) stdout F 0123456789\n")
    #expect(access(directory + "/log.tmp", F_OK) != 0)
  }

  @Test func reopeningAfterKubeletMovedTheFileStartsANewOne() throws {
    let directory = Self.directory()
    defer { Self.remove(directory) }
    var log = try CRILog(path: directory + "/log", sizeLimit: -1)
    log.write(.stdout, Array("before\n".utf8)[...], now: Self.moment)
    #expect(rename(directory + "/log", directory + "/moved") == 0)
    log.truncate()
    log.write(.stdout, Array("after\n".utf8)[...], now: Self.moment)
    log.close()
    let stamp = CRILog.timestamp(Self.moment)
    #expect(Self.contents(directory + "/moved") == "\(stamp) stdout F before\n")
    #expect(Self.contents(directory + "/log") == "\(stamp) stdout F after\n")
  }

  @Test func anExistingFileIsAppendedToAndCounted() throws {
    let directory = Self.directory()
    defer { Self.remove(directory) }
    var first = try CRILog(path: directory + "/log", sizeLimit: -1)
    first.write(.stdout, Array("a\n".utf8)[...], now: Self.moment)
    first.close()
    var second = try CRILog(path: directory + "/log", sizeLimit: -1)
    #expect(second.size == Int64((CRILog.timestamp(Self.moment) + " stdout F a\n").utf8.count))
    second.close()
  }

  @Test func exitCodesAreConmons() {
    #expect(ExitRecord.code(waitStatus: 3 << 8) == 3)
    #expect(ExitRecord.code(waitStatus: SIGKILL) == 137)
  }

  @Test func monitorOptionsRoundTrip() throws {
    var options = MonitorOptions(
      directory: "/run/p", podID: "p", runtime: "/usr/bin/runc", runtimeRoot: "/run/runc", exitsDirectory: "/run/e",
      attachDirectory: "/run/a")
    options.logSizeMax = 1024
    options.noPivot = true
    #expect(try MonitorOptions(arguments: options.arguments) == options)
    #expect(throws: MonitorOptionsError.self) { try MonitorOptions(arguments: ["--directory"]) }
    #expect(throws: MonitorOptionsError.self) { try MonitorOptions(arguments: options.arguments + ["--bogus", "x"]) }
  }
}
