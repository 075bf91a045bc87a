#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A container's log in the CRI format kubelet reads, written as conmon's
/// k8s-file driver writes it: each line of a chunk read from the container
/// becomes `<RFC 3339 local time with nanoseconds> <stream> F <line>`, and a
/// chunk's unterminated tail `... P <tail>` plus a newline (kubelet joins
/// partial lines). With a size limit, a line that would take the file over
/// it starts a new, empty file first (conmon truncates: kubelet rotates).
public struct CRILog {
  public enum Stream: String, Sendable {
    case stdout, stderr
  }

  public let path: String
  /// `log_size_max`; zero or negative for no limit.
  public let sizeLimit: Int64
  private var fd: Int32
  /// Bytes in the current file, counted from its size when opened.
  public private(set) var size: Int64

  public init(path: String, sizeLimit: Int64) throws(MonitorError) {
    self.path = path
    self.sizeLimit = sizeLimit
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
    guard fd >= 0 else { throw MonitorError("open log file \(path)") }
    var info = stat()
    size = fstat(fd, &info) == 0 ? Int64(info.st_size) : 0
  }

  /// Writes `bytes` (one read from the container) as log lines stamped `now`.
  public mutating func write(_ stream: Stream, _ bytes: ArraySlice<UInt8>, now: timespec = CRILog.now()) {
    let prefix = Array((Self.timestamp(now) + " " + stream.rawValue + " ").utf8)
    var rest = bytes
    var pending: [UInt8] = []
    while !rest.isEmpty {
      let end = rest.firstIndex(of: UInt8(ascii: "\n"))
      let line = end.map { rest[rest.startIndex...$0] } ?? rest
      let partial = end == nil
      var entry = prefix + Array((partial ? "P " : "F ").utf8) + line
      if partial { entry.append(UInt8(ascii: "\n")) }
      if sizeLimit > 0, size + Int64(pending.count + entry.count) > sizeLimit {
        flush(&pending)
        truncate()
      }
      pending += entry
      rest = rest[line.endIndex...]
    }
    flush(&pending)
  }

  private mutating func flush(_ pending: inout [UInt8]) {
    var offset = 0
    while offset < pending.count {
      let written = pending[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
      if written < 0 && errno == EINTR { continue }
      // A full disk loses log lines, as with conmon, never the container.
      guard written > 0 else { break }
      offset += written
    }
    size += Int64(offset)
    pending.removeAll(keepingCapacity: true)
  }

  /// Starts an empty file at the path: a new file is written beside it
  /// and renamed over it, so a reader never sees the path missing (conmon's
  /// reopen, used for both the size limit and ReopenContainerLog, where
  /// kubelet has already moved the old file away).
  public mutating func truncate() {
    let temporary = path + ".tmp"
    let fresh = open(temporary, O_WRONLY | O_TRUNC | O_CREAT | O_CLOEXEC, 0o640)
    guard fresh >= 0 else { return }
    guard rename(temporary, path) == 0 else {
      _ = Glibc.close(fresh)
      unlink(temporary)
      return
    }
    _ = Glibc.close(fd)
    fd = fresh
    size = 0
  }

  /// Makes what was written durable (before the exit is recorded, as conmon).
  public func sync() { _ = fsync(fd) }

  public mutating func close() {
    if fd >= 0 { _ = Glibc.close(fd) }
    fd = -1
  }

  public static func now() -> timespec {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return now
  }

  /// `2006-01-02T15:04:05.000000000+07:00` in local time, as conmon.
  public static func timestamp(_ time: timespec) -> String {
    var seconds = time.tv_sec
    var local = tm()
    if localtime_r(&seconds, &local) == nil { local = tm() ; local.tm_year = 70; local.tm_mday = 1 }
    var offset = Int(local.tm_gmtoff)
    let sign = offset < 0 ? "-" : "+"
    offset = abs(offset)
    return pad(Int(local.tm_year) + 1900, 4) + "-" + pad(Int(local.tm_mon) + 1, 2) + "-" + pad(Int(local.tm_mday), 2)
      + "T" + pad(Int(local.tm_hour), 2) + ":" + pad(Int(local.tm_min), 2) + ":" + pad(Int(local.tm_sec), 2)
      + "." + pad(Int(time.tv_nsec), 9) + sign + pad(offset / 3600, 2) + ":" + pad(offset % 3600 / 60, 2)
  }

  private static func pad(_ value: Int, _ width: Int) -> String {
    let digits = String(value)
    return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
  }
}
