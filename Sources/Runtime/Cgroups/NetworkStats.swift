import Support

/// Counters of one network interface, from /proc/<pid>/net/dev.
public struct InterfaceStats: Sendable, Hashable {
  public var name: String
  public var rxBytes: UInt64
  public var rxPackets: UInt64
  public var rxErrors: UInt64
  public var rxDropped: UInt64
  public var txBytes: UInt64
  public var txPackets: UInt64
  public var txErrors: UInt64
  public var txDropped: UInt64

  public init(
    name: String, rxBytes: UInt64 = 0, rxPackets: UInt64 = 0, rxErrors: UInt64 = 0, rxDropped: UInt64 = 0,
    txBytes: UInt64 = 0, txPackets: UInt64 = 0, txErrors: UInt64 = 0, txDropped: UInt64 = 0
  ) {
    self.name = name
    self.rxBytes = rxBytes
    self.rxPackets = rxPackets
    self.rxErrors = rxErrors
    self.rxDropped = rxDropped
    self.txBytes = txBytes
    self.txPackets = txPackets
    self.txErrors = txErrors
    self.txDropped = txDropped
  }
}

/// Network counters of a network namespace, read through a process in it:
/// /proc/<pid>/net/dev shows the namespace of `pid`, so no setns is needed
/// (the pod's infra process or any container process will do).
public enum NetworkStats {
  /// The interface CRI reports as a pod's default one.
  public static let defaultInterface = "eth0"

  /// The interfaces in the network namespace of `pid`. Throws when the
  /// process is gone.
  public static func read(pid: Int32) throws(SystemError) -> [InterfaceStats] {
    parse(try Files.read("/proc/\(pid)/net/dev"))
  }

  /// Parses the net/dev table: two header lines, then
  /// `name: rx bytes packets errs drop fifo frame compressed multicast tx bytes packets errs drop fifo colls carrier compressed`.
  public static func parse(_ text: String) -> [InterfaceStats] {
    var interfaces: [InterfaceStats] = []
    for line in text.split(separator: "\n") {
      guard let colon = line.firstIndex(of: ":") else { continue }
      let name = line[..<colon].trimmingSpaces
      let values = line[line.index(after: colon)...].split(separator: " ", omittingEmptySubsequences: true)
        .compactMap { UInt64($0) }
      guard !name.isEmpty, values.count >= 16 else { continue }
      interfaces.append(
        InterfaceStats(
          name: name, rxBytes: values[0], rxPackets: values[1], rxErrors: values[2], rxDropped: values[3],
          txBytes: values[8], txPackets: values[9], txErrors: values[10], txDropped: values[11]))
    }
    return interfaces
  }

  /// Every interface but loopback.
  public static func nonLoopback(_ interfaces: [InterfaceStats]) -> [InterfaceStats] {
    interfaces.filter { $0.name != "lo" }
  }

  /// The interface named `preferred` (eth0) if present, else the first
  /// non-loopback one by name, else nil.
  public static func primary(_ interfaces: [InterfaceStats], preferred: String = defaultInterface) -> InterfaceStats? {
    interfaces.first { $0.name == preferred } ?? nonLoopback(interfaces).min { $0.name < $1.name }
  }

  /// The sum over every non-loopback interface, named "total".
  public static func total(_ interfaces: [InterfaceStats]) -> InterfaceStats {
    nonLoopback(interfaces).reduce(into: InterfaceStats(name: "total")) { sum, next in
      sum.rxBytes &+= next.rxBytes
      sum.rxPackets &+= next.rxPackets
      sum.rxErrors &+= next.rxErrors
      sum.rxDropped &+= next.rxDropped
      sum.txBytes &+= next.txBytes
      sum.txPackets &+= next.txPackets
      sum.txErrors &+= next.txErrors
      sum.txDropped &+= next.txDropped
    }
  }
}

extension Substring {
  fileprivate var trimmingSpaces: String {
    String(self).trimmed
  }
}
