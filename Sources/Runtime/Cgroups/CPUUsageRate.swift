/// Cumulative CPU time at a moment.
public struct CPUUsageSample: Sendable, Hashable {
  /// Nanoseconds since the Unix epoch (any clock works, if both samples use it).
  public var timestamp: Int64
  /// Cumulative CPU time in nanoseconds.
  public var usageCoreNanoSeconds: UInt64

  public init(timestamp: Int64, usageCoreNanoSeconds: UInt64) {
    self.timestamp = timestamp
    self.usageCoreNanoSeconds = usageCoreNanoSeconds
  }

  /// CRI's `usage_nano_cores` between two samples: the CPU time used per
  /// second of wall time, in billionths of a core (one busy core is
  /// 1_000_000_000). nil when time did not advance or the counter went back
  /// (a new cgroup under the same name).
  public static func nanoCores(from earlier: CPUUsageSample, to later: CPUUsageSample) -> UInt64? {
    guard later.timestamp > earlier.timestamp, later.usageCoreNanoSeconds >= earlier.usageCoreNanoSeconds else {
      return nil
    }
    let usage = later.usageCoreNanoSeconds - earlier.usageCoreNanoSeconds
    let elapsed = UInt64(later.timestamp - earlier.timestamp)
    // usage × 1e9 / elapsed in 128 bits: usage alone may exceed 2^64 / 1e9.
    let product = usage.multipliedFullWidth(by: 1_000_000_000)
    guard product.high < elapsed else { return UInt64.max }
    return elapsed.dividingFullWidth(product).quotient
  }
}

/// Keeps the previous sample of one cgroup and turns each new one into a
/// `usage_nano_cores` rate, the way kubelet's CRI stats provider expects the
/// runtime to (the first sample has no rate).
public struct CPUUsageRate: Sendable, Hashable {
  public private(set) var last: CPUUsageSample?

  public init(last: CPUUsageSample? = nil) {
    self.last = last
  }

  /// Records `sample` and returns the rate since the previous one. A sample
  /// not newer than the previous one is ignored (returns nil, keeps the old).
  public mutating func record(_ sample: CPUUsageSample) -> UInt64? {
    guard let previous = last else {
      last = sample
      return nil
    }
    guard sample.timestamp > previous.timestamp else { return nil }
    last = sample
    return CPUUsageSample.nanoCores(from: previous, to: sample)
  }

  /// The rate between the previous sample and `sample`, without recording it.
  public func peek(_ sample: CPUUsageSample) -> UInt64? {
    last.flatMap { CPUUsageSample.nanoCores(from: $0, to: sample) }
  }
}
