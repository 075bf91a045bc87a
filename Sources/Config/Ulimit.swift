/// One `default_ulimits` entry: `nofile=1024:2048` sets RLIMIT_NOFILE's soft and hard
/// limits; `nofile=1024` sets both. -1 means unlimited, as in Docker's syntax.
public struct Ulimit: Sendable, Equatable {
  /// The names Docker's (and so CRI-O's) parser knows, each an RLIMIT_<NAME>.
  public static let names = [
    "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc", "rss", "rtprio",
    "rttime", "sigpending", "stack",
  ]

  /// `RLIMIT_NOFILE`, as the OCI spec names it.
  public let type: String
  /// As the OCI spec carries them: unlimited is UInt64.max (RLIM_INFINITY).
  public let soft: UInt64
  public let hard: UInt64

  public init?(parsing text: String) {
    let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
    guard parts.count == 2, Self.names.contains(String(parts[0])) else { return nil }
    let limits = parts[1].split(separator: ":", omittingEmptySubsequences: false)
    guard (1...2).contains(limits.count), let soft = Int64(limits[0]), let hard = Int64(limits[limits.count - 1]),
      soft >= -1, hard >= -1
    else { return nil }
    let unlimited = { (value: Int64) in value == -1 ? UInt64.max : UInt64(value) }
    guard unlimited(soft) <= unlimited(hard) else { return nil }
    type = "RLIMIT_" + parts[0].uppercased()
    self.soft = unlimited(soft)
    self.hard = unlimited(hard)
  }
}
