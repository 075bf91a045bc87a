/// A duration written the way Go's `time.ParseDuration` reads it ("1m30s", "500ms", "-1.5h"),
/// because CRI-O's duration keys are parsed by Go and configs must carry over unchanged.
public struct GoDuration: Sendable, Equatable, Hashable {
  public var nanoseconds: Int64

  public init(nanoseconds: Int64) {
    self.nanoseconds = nanoseconds
  }

  /// Parses Go syntax: an optional sign, then one or more decimal numbers (fraction allowed)
  /// each followed by a unit: ns, us (or µs, μs), ms, s, m, h. "0" alone needs no unit.
  /// Returns nil for anything Go rejects, including values beyond ±2^63 ns.
  public init?(_ text: String) {
    var rest = Substring(text).utf8[...]
    var negative = false
    if let sign = rest.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") {
      negative = sign == UInt8(ascii: "-")
      rest = rest.dropFirst()
    }
    if rest.elementsEqual("0".utf8) {
      nanoseconds = 0
      return
    }
    guard !rest.isEmpty else { return nil }

    let limit: UInt64 = 1 << 63
    var total: UInt64 = 0
    while !rest.isEmpty {
      guard let first = rest.first, first == Self.dot || Self.isDigit(first) else { return nil }
      let whole = Self.digitPrefix(rest)
      guard let integer = Self.wholeValue(whole) else { return nil }
      rest = rest[whole.endIndex...]

      var fraction: UInt64 = 0
      var scale = 1.0
      var hasFraction = false
      if rest.first == Self.dot {
        rest = rest.dropFirst()
        let digits = Self.digitPrefix(rest)
        (fraction, scale) = Self.fractionValue(digits)
        hasFraction = !digits.isEmpty
        rest = rest[digits.endIndex...]
      }
      guard !whole.isEmpty || hasFraction else { return nil }

      let unitEnd = rest.firstIndex { $0 == Self.dot || Self.isDigit($0) } ?? rest.endIndex
      guard let unit = Self.unitNanoseconds(rest[..<unitEnd]) else { return nil }
      rest = rest[unitEnd...]

      guard integer <= limit / unit else { return nil }
      var value = integer * unit
      if fraction > 0 {
        value += UInt64(Double(fraction) * (Double(unit) / scale))
        guard value <= limit else { return nil }
      }
      total += value
      guard total <= limit else { return nil }
    }
    if negative {
      // -2^63 is representable, +2^63 is not.
      nanoseconds = total == limit ? Int64.min : -Int64(total)
    } else {
      guard total < limit else { return nil }
      nanoseconds = Int64(total)
    }
  }

  public var duration: Duration { .nanoseconds(nanoseconds) }

  private static let dot = UInt8(ascii: ".")

  private static func isDigit(_ byte: UInt8) -> Bool {
    byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
  }

  private static func digitPrefix(_ bytes: Substring.UTF8View.SubSequence) -> Substring.UTF8View.SubSequence {
    bytes.prefix { isDigit($0) }
  }

  /// The integer part; nil when it overflows, as Go reports.
  private static func wholeValue(_ digits: Substring.UTF8View.SubSequence) -> UInt64? {
    var value: UInt64 = 0
    for digit in digits {
      let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
      let (sum, overflow2) = times10.addingReportingOverflow(UInt64(digit - UInt8(ascii: "0")))
      guard !overflow1, !overflow2, sum <= 1 << 63 else { return nil }
      value = sum
    }
    return value
  }

  /// The fraction digits as an integer and its power-of-ten scale; digits beyond what fits
  /// are dropped (Go does the same) because they cannot change the nanosecond result.
  private static func fractionValue(_ digits: Substring.UTF8View.SubSequence) -> (UInt64, Double) {
    var value: UInt64 = 0
    var scale = 1.0
    for digit in digits {
      let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
      let (sum, overflow2) = times10.addingReportingOverflow(UInt64(digit - UInt8(ascii: "0")))
      if overflow1 || overflow2 || sum > 1 << 63 { break }
      value = sum
      scale *= 10
    }
    return (value, scale)
  }

  private static func unitNanoseconds(_ unit: Substring.UTF8View.SubSequence) -> UInt64? {
    switch String(decoding: unit, as: UTF8.self) {
    case "ns": 1
    case "us", "\u{00B5}s", "\u{03BC}s": 1_000
    case "ms": 1_000_000
    case "s": 1_000_000_000
    case "m": 60_000_000_000
    case "h": 3_600_000_000_000
    default: nil
    }
  }
}
