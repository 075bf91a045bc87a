#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Logging
import Support
import Synchronization

/// The daemon's log level, shared by every logger and changed at run time by
/// SIGHUP. swift-log asks the handler for its level before formatting, so a
/// change takes effect on the next line everywhere.
public final class LogLevelSwitch: Sendable {
  private let current: Mutex<Logger.Level>
  private let currentFilter: Mutex<LogFilter?>

  public init(_ level: Logger.Level, filter: String = "") {
    current = Mutex(level)
    currentFilter = Mutex(LogFilter(filter))
  }

  public var level: Logger.Level {
    get { current.withLock { $0 } }
    set { current.withLock { $0 = newValue } }
  }

  /// `log_filter`, also changed by SIGHUP.
  public var filter: String {
    get { currentFilter.withLock { $0?.pattern ?? "" } }
    set { currentFilter.withLock { $0 = LogFilter(newValue) } }
  }

  /// Whether a message passes `log_filter` (every message does without one).
  func passes(_ message: String) -> Bool {
    currentFilter.withLock { $0?.matches(message) ?? true }
  }
}

/// `log_filter`: as CRI-O's filter hook, a message the regular expression
/// does not match is not written at all. The configuration checked that it
/// compiles.
struct LogFilter: @unchecked Sendable {
  // Regex is not Sendable; this one is only read, under the switch's lock.
  let pattern: String
  let regex: Regex<AnyRegexOutput>

  init?(_ pattern: String) {
    guard !pattern.isEmpty, let regex = try? Regex(pattern) else { return nil }
    self.pattern = pattern
    self.regex = regex
  }

  func matches(_ message: String) -> Bool {
    message.contains(regex)
  }
}

/// Writes logrus-style text lines to stderr, as CRI-O does, so the tools and
/// habits operators have for CRI-O logs keep working:
/// `time="2026-11-29T04:18:57.123456Z" level=info msg="..." key=value`.
public struct DaemonLogHandler: LogHandler {
  public var metadata: Logger.Metadata = [:]
  public var metadataProvider: Logger.MetadataProvider?
  private let label: String
  private let levelSwitch: LogLevelSwitch

  public init(label: String, levelSwitch: LogLevelSwitch) {
    self.label = label
    self.levelSwitch = levelSwitch
  }

  public var logLevel: Logger.Level {
    get { levelSwitch.level }
    // Loggers may not lower or raise the shared level one by one.
    set {}
  }

  public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { metadata[key] }
    set { metadata[key] = newValue }
  }

  /// Under systemd with stderr going to the journal (`$JOURNAL_STREAM`
  /// names stderr's device and inode), each line starts with its syslog
  /// priority (`<6>`), which journald turns into the entry's priority, and
  /// carries no time of its own: the journal stamps every entry.
  static let toJournal: Bool = {
    guard let stream = getenv("JOURNAL_STREAM").map({ String(cString: $0) }) else { return false }
    var info = stat()
    guard fstat(2, &info) == 0 else { return false }
    return stream == "\(info.st_dev):\(info.st_ino)"
  }()

  public func log(event: LogEvent) {
    guard levelSwitch.passes(event.message.description) else { return }
    let lead = Self.toJournal ? "<\(Self.syslogPriority(of: event.level))>" : "time=\"\(Self.timestamp())\" "
    var line = lead + "level=\(Self.name(of: event.level)) msg=\(Self.quote(event.message.description))"
    var merged = metadata
    if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
    if let extra = event.metadata { merged.merge(extra) { $1 } }
    for key in merged.keys.sorted() {
      line += " \(key)=\(Self.quote(merged[key]!.description))"
    }
    if let error = event.error { line += " error=\(Self.quote(String(describing: error)))" }
    line += "\n"
    // One write(2) per event keeps concurrent lines whole.
    var bytes = Array(line.utf8)
    bytes.withUnsafeMutableBytes { _ = write(2, $0.baseAddress, $0.count) }
  }

  /// sd-daemon(3)'s priorities: debug 7 … critical 2.
  static func syslogPriority(of level: Logger.Level) -> Int {
    switch level {
    case .trace, .debug: 7
    case .info: 6
    case .notice: 5
    case .warning: 4
    case .error: 3
    case .critical: 2
    }
  }

  static func name(of level: Logger.Level) -> String {
    switch level {
    case .trace: "trace"
    case .debug: "debug"
    case .info: "info"
    case .notice: "info"
    case .warning: "warning"
    case .error: "error"
    case .critical: "fatal"
    }
  }

  /// Quotes a value the way logrus does: bare when it is a simple token,
  /// else double-quoted with escapes, so one event is always one line.
  static func quote(_ value: String) -> String {
    let bare = !value.isEmpty && value.unicodeScalars.allSatisfy { scalar in
      switch scalar {
      case "a"..."z", "A"..."Z", "0"..."9", "-", ".", "_", "/", "@", "^", "+", ":": true
      default: false
      }
    }
    return bare ? value : Quoting.doubleQuoted(value)
  }

  /// RFC 3339 UTC with microseconds, without Foundation's formatters.
  static func timestamp() -> String {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    var parts = tm()
    var seconds = now.tv_sec
    gmtime_r(&seconds, &parts)
    func pad(_ value: Int, _ width: Int) -> String {
      let digits = String(value)
      return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
    return "\(pad(Int(parts.tm_year) + 1900, 4))-\(pad(Int(parts.tm_mon) + 1, 2))-\(pad(Int(parts.tm_mday), 2))"
      + "T\(pad(Int(parts.tm_hour), 2)):\(pad(Int(parts.tm_min), 2)):\(pad(Int(parts.tm_sec), 2))"
      + ".\(pad(Int(now.tv_nsec) / 1000, 6))Z"
  }
}
