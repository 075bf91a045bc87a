import CMonitor
import MonitorWire
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `crio-monitor`'s start: the daemon runs it and waits for the first
/// process to exit, as it waits for conmon. That process forks the monitor
/// (in a session of its own, so it outlives the daemon and its process
/// group, `kill -9` of the daemon included) and exits 0 once the monitor
/// listens, or 1 with the reason on stderr.
public enum MonitorMain {
  public static func run(_ arguments: [String]) -> Int32 {
    let options: MonitorOptions
    do { options = try MonitorOptions(arguments: arguments) } catch {
      printError("\(error)")
      return 2
    }
    var ready: [Int32] = [-1, -1]
    guard crio_monitor_pipe(&ready) == 0 else {
      printError("pipe: \(String(cString: strerror(errno)))")
      return 1
    }
    let child = fork()
    if child < 0 {
      printError("fork: \(String(cString: strerror(errno)))")
      return 1
    }
    if child > 0 {
      close(ready[1])
      var report = [UInt8](repeating: 0, count: 4096)
      var got = 0
      while got < report.count {
        let n = report[got...].withUnsafeMutableBytes { read(ready[0], $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { break }
        got += n
      }
      guard got == 0 else {
        printError(String(decoding: report[..<got], as: UTF8.self))
        return 1
      }
      return 0
    }
    close(ready[0])
    _ = setsid()
    _ = chdir("/")
    let monitor: Monitor
    do {
      monitor = try Monitor(options: options)
    } catch {
      let bytes = Array(error.description.utf8)
      _ = bytes.withUnsafeBytes { write(ready[1], $0.baseAddress, $0.count) }
      exit(1)
    }
    // End of file with nothing written: the monitor listens.
    close(ready[1])
    monitor.run()
    return 0
  }
}
