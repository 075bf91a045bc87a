import Support

#if canImport(Glibc)
import Glibc
#endif

/// This daemon's own figures, as Go's process collector reads them from
/// /proc for every Go daemon (CRI-O's `process_*` metrics).
struct ProcessFacts: Sendable, Equatable {
  var residentBytes: Double
  var virtualBytes: Double
  var openDescriptors: Double
  var maxDescriptors: Double
  var startTimeSeconds: Double
  var cpuSeconds: Double

  /// nil when /proc cannot be read.
  static func current() -> ProcessFacts? {
    guard let stat = try? Files.read("/proc/self/stat"), let fields = ProcStat.fieldsAfterName(stat), fields.count > 21,
      let utime = Double(fields[11]), let stime = Double(fields[12]), let start = Double(fields[19]),
      let virtual = Double(fields[20]), let residentPages = Double(fields[21])
    else { return nil }
    let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
    let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
    var limit = rlimit()
    getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
    return ProcessFacts(
      residentBytes: residentPages * pageSize,
      virtualBytes: virtual,
      openDescriptors: Double(((try? Files.list("/proc/self/fd")) ?? []).count),
      maxDescriptors: Double(limit.rlim_cur),
      startTimeSeconds: Double(bootTime() ?? 0) + start / ticks,
      cpuSeconds: (utime + stime) / ticks)
  }

  /// The `btime` line of /proc/stat: when the machine booted (Unix seconds).
  static func bootTime() -> Int? {
    guard let text = try? Files.read("/proc/stat") else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix("btime ") {
      return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
    }
    return nil
  }
}

/// `/proc/<pid>/stat`: the fields after the command name, which may itself
/// hold spaces and parentheses, so it ends at the last ')'.
enum ProcStat {
  /// Field 3 (the state) is element 0.
  static func fieldsAfterName(_ stat: String) -> [Substring]? {
    guard let close = stat.lastIndex(of: ")") else { return nil }
    return stat[stat.index(after: close)...].split(separator: " ")
  }

  /// Processes of the node in state Z, as CRI-O's `processes_defunct`
  /// counts them.
  static func defunctProcesses() -> Int {
    var count = 0
    for entry in (try? Files.list("/proc")) ?? [] where entry.first?.isNumber == true {
      guard let stat = try? Files.read("/proc/\(entry)/stat"), let fields = fieldsAfterName(stat) else { continue }
      if fields.first == "Z" { count += 1 }
    }
    return count
  }
}
