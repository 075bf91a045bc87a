import Synchronization

/// A Prometheus summary per label value, for CRI-O's two latency summaries
/// (objectives 0.5, 0.9, 0.99), which swift-prometheus does not have. The
/// quantiles are exact over the latest `window` observations of each label
/// (Go's client keeps a ten-minute decaying sample instead); `_sum` and
/// `_count` cover every observation since start.
final class LatencySummary: Sendable {
  static let quantiles: [Double] = [0.5, 0.9, 0.99]

  let name: String
  let label: String
  let help: String
  let window: Int
  private let series = Mutex<[String: Series]>([:])

  struct Series {
    var recent: [Double] = []
    /// Where the next observation goes once `recent` is full.
    var next = 0
    var sum = 0.0
    var count: UInt64 = 0
  }

  init(name: String, label: String, help: String, window: Int = 512) {
    self.name = name
    self.label = label
    self.help = help
    self.window = window
  }

  func observe(_ value: Double, label labelValue: String) {
    series.withLock { all in
      all[labelValue, default: Series()].add(value, window: window)
    }
  }

  /// The family in the text format; nothing while nothing was observed.
  func emit(into buffer: inout [UInt8]) {
    let snapshot = series.withLock { $0 }
    guard !snapshot.isEmpty else { return }
    var text = "# HELP \(name) \(Exposition.escapeHelp(help))\n# TYPE \(name) summary\n"
    for (value, series) in snapshot.sorted(by: { $0.key < $1.key }) {
      let labelText = "\(label)=\"\(Exposition.escapeLabel(value))\""
      let sorted = series.recent.sorted()
      for quantile in Self.quantiles {
        text += "\(name){\(labelText),quantile=\"\(quantile)\"} \(Exposition.number(Self.quantile(quantile, of: sorted)))\n"
      }
      text += "\(name)_sum{\(labelText)} \(Exposition.number(series.sum))\n"
      text += "\(name)_count{\(labelText)} \(series.count)\n"
    }
    buffer.append(contentsOf: text.utf8)
  }

  /// The nearest-rank quantile of sorted values; NaN for none (as Go's client).
  static func quantile(_ q: Double, of sorted: [Double]) -> Double {
    guard !sorted.isEmpty else { return .nan }
    let rank = Int((q * Double(sorted.count)).rounded(.up))
    return sorted[min(max(rank, 1), sorted.count) - 1]
  }
}

extension LatencySummary.Series {
  mutating func add(_ value: Double, window: Int) {
    if recent.count < window {
      recent.append(value)
    } else {
      recent[next] = value
      next = (next + 1) % window
    }
    sum += value
    count += 1
  }
}

/// The text format's escaping and number spelling.
enum Exposition {
  static func escapeHelp(_ text: String) -> String {
    text.replacingAll("\\", with: "\\\\").replacingAll("\n", with: "\\n")
  }

  static func escapeLabel(_ text: String) -> String {
    escapeHelp(text).replacingAll("\"", with: "\\\"")
  }

  static func number(_ value: Double) -> String {
    if value.isNaN { return "NaN" }
    if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
    return "\(value)"
  }
}

extension String {
  fileprivate func replacingAll(_ target: Character, with replacement: String) -> String {
    guard contains(target) else { return self }
    var result = ""
    for character in self {
      if character == target { result += replacement } else { result.append(character) }
    }
    return result
  }
}
