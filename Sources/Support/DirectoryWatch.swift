import CSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The names of files that appear in a directory, as inotify reports them:
/// written and closed, or renamed into it (how conmon and others write
/// files atomically). Nothing polls: the stream waits on `Readiness`.
public final class DirectoryWatch: Sendable {
  /// What counts as a file appearing.
  public enum Events: Sendable {
    /// Written and closed, or renamed in: the file is complete.
    case written
    /// Created (maybe still empty), or renamed in.
    case created
  }

  public let directory: String
  private let fd: Int32

  /// Starts watching; files already there are not reported (list them
  /// after this returns to miss nothing).
  public init(_ directory: String, events: Events = .written) throws(SystemError) {
    self.directory = directory
    fd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
    guard fd >= 0 else { throw SystemError("inotify_init1", path: directory) }
    let mask = UInt32(IN_MOVED_TO) | UInt32(events == .written ? IN_CLOSE_WRITE : IN_CREATE)
    guard inotify_add_watch(fd, directory, mask) >= 0 else {
      let error = SystemError("inotify_add_watch", path: directory)
      close(fd)
      throw error
    }
  }

  deinit { close(fd) }

  /// File names as they appear, until the task is cancelled. A queue
  /// overflow (IN_Q_OVERFLOW) yields nil: the caller lists the directory.
  public func names() -> AsyncStream<String?> {
    AsyncStream { continuation in
      let task = Task {
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while !Task.isCancelled {
          guard await Readiness.shared.waitReadable(fd) else { break }
          while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            for event in Self.parse(buffer[..<count]) { continuation.yield(event) }
          }
        }
        continuation.finish()
      }
      continuation.onTermination = { _ in task.cancel() }
    }
  }

  /// Waits until a name for which `matches` holds appears (nil stands for
  /// a queue overflow), at most `timeout`; false when the time ran out.
  public func waitFor(timeout: Duration, _ matches: @escaping @Sendable (String?) -> Bool) async -> Bool {
    let waiter = Task {
      for await name in names() where matches(name) { return true }
      return false
    }
    let timer = Task {
      try? await Task.sleep(for: timeout)
      waiter.cancel()
    }
    defer { timer.cancel() }
    return await waiter.value
  }

  /// `struct inotify_event` records: wd, mask, cookie, len, then the name
  /// padded with NULs.
  static func parse(_ bytes: ArraySlice<UInt8>) -> [String?] {
    var result: [String?] = []
    var offset = bytes.startIndex
    func field(_ at: Int) -> UInt32 {
      bytes[at..<(at + 4)].withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
    }
    while offset + 16 <= bytes.endIndex {
      let mask = field(offset + 4)
      let length = Int(field(offset + 12))
      let nameStart = offset + 16
      guard nameStart + length <= bytes.endIndex else { break }
      if mask & UInt32(IN_Q_OVERFLOW) != 0 {
        result.append(nil)
      } else if length > 0 {
        let name = bytes[nameStart..<(nameStart + length)].prefix { $0 != 0 }
        result.append(String(decoding: name, as: UTF8.self))
      }
      offset = nameStart + length
    }
    return result
  }
}
