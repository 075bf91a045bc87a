import Support

/// Value validators used by the schema. Each returns nil when the value is fine, else a
/// message of the form `expected ..., got ...` that ConfigError prefixes with file and key.
/// They check syntax only; whether paths exist is for the daemon to find out at start.
enum Check {
  typealias Text = @Sendable (String) -> String?
  typealias Number = @Sendable (Int) -> String?

  /// Applied to every string: NUL truncates C strings and line breaks would let a value
  /// inject extra lines into files the daemon writes (env, sysctls, hooks).
  static let plain: Text = { value in
    value.unicodeScalars.contains { $0 == "\0" || $0 == "\n" || $0 == "\r" }
      ? "expected a value without NUL bytes or line breaks, got \(quoted(value))" : nil
  }

  static let absolutePath: Text = { value in
    value.hasPrefix("/") ? nil : "expected an absolute path, got \(quoted(value))"
  }

  static let absolutePathOrEmpty: Text = { value in
    value.isEmpty || value.hasPrefix("/") ? nil : "expected an absolute path or \"\", got \(quoted(value))"
  }

  static let nonEmpty: Text = { value in
    value.isEmpty ? "expected a non-empty string, got \"\"" : nil
  }

  static func oneOf(_ choices: [String]) -> Text {
    { value in
      choices.contains(value) ? nil : "expected \(alternatives(choices)), got \(quoted(value))"
    }
  }

  static let logLevel: Text = { value in
    LogLevel(parsing: value) != nil
      ? nil : "expected \(alternatives(LogLevel.allCases.map(\.rawValue))), got \(quoted(value))"
  }

  static let goDuration: Text = { value in
    GoDuration(value) == nil
      ? "expected a Go duration such as \"30s\", \"1m30s\" or \"500ms\", got \(quoted(value))"
      : nil
  }

  static let goDurationOrEmpty: Text = { value in
    value.isEmpty ? nil : goDuration(value)
  }

  /// Non-negative durations only: a negative timeout has no meaning for a pull.
  static let nonNegativeGoDuration: Text = { value in
    if let failure = goDuration(value) { return failure }
    return (GoDuration(value)?.nanoseconds ?? 0) < 0
      ? "expected a non-negative Go duration, got \(quoted(value))" : nil
  }

  /// CRI-O keeps `stream_port` as a string; it must still be a TCP port.
  static let portString: Text = { value in
    let digitsOnly = !value.isEmpty && value.utf8.count <= 5 && value.utf8.allSatisfy { $0 >= 48 && $0 <= 57 }
    if digitsOnly, let port = Int(value), port <= 65535 { return nil }
    return "expected a port number from \"0\" to \"65535\", got \(quoted(value))"
  }

  static let port: Number = { value in
    (0...65535).contains(value) ? nil : "expected a port number from 0 to 65535, got \(value)"
  }

  static func atLeast(_ minimum: Int) -> Number {
    { value in value >= minimum ? nil : "expected an integer >= \(minimum), got \(value)" }
  }

  /// conmon reads logs in 8 KiB chunks, so a smaller positive limit could never be honoured.
  static let logSizeMax: Number = { value in
    value < 0 || value >= 8192
      ? nil : "expected a negative number (no limit) or at least 8192 bytes, got \(value)"
  }

  /// `KEY=value` with a non-empty key, as passed to execve.
  static let envEntry: Text = { value in
    guard let equals = value.firstIndex(of: "="), equals != value.startIndex else {
      return "expected \"KEY=value\", got \(quoted(value))"
    }
    return value[..<equals].contains(where: \.isWhitespace)
      ? "expected \"KEY=value\" with no spaces in KEY, got \(quoted(value))" : nil
  }

  /// `net.ipv4.ping_group_range=0 2147483647`: the key names a file under /proc/sys.
  static let sysctl: Text = { value in
    let parts = value.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
    let key = parts.first.map { $0.trimmingWhitespace() } ?? ""
    let valid = parts.count == 2 && !key.isEmpty && !key.contains(where: \.isWhitespace)
      && !key.split(separator: "/").contains("..") && !parts[1].trimmingWhitespace().isEmpty
    return valid ? nil : "expected \"key=value\" such as \"net.ipv4.ip_forward=1\", got \(quoted(value))"
  }

  static let capability: Text = { value in
    LinuxCapability.canonicalName(value) != nil
      ? nil : "expected a Linux capability name such as \"CHOWN\" or \"CAP_CHOWN\", got \(quoted(value))"
  }

  /// `/dev/host[:/dev/container][:rwm]`, as CRI-O's device parser accepts.
  static let device: Text = { value in
    let parts = value.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
    let isPermissions = { (text: String) in !text.isEmpty && text.allSatisfy { "rwm".contains($0) } }
    let valid: Bool
    switch parts.count {
    case 1: valid = parts[0].hasPrefix("/")
    case 2: valid = parts[0].hasPrefix("/") && (parts[1].hasPrefix("/") || isPermissions(parts[1]))
    case 3: valid = parts[0].hasPrefix("/") && parts[1].hasPrefix("/") && isPermissions(parts[2])
    default: valid = false
    }
    return valid
      ? nil : "expected \"/dev/host[:/dev/container][:permissions]\" with permissions from \"rwm\", got \(quoted(value))"
  }

  /// Docker's ulimit syntax as CRI-O parses it: `name=soft[:hard]`, soft ≤ hard, -1 for
  /// unlimited.
  static let ulimit: Text = { value in
    Ulimit(parsing: value) == nil
      ? "expected \"name=soft[:hard]\" with soft ≤ hard and a name among \(Ulimit.names.joined(separator: ", ")), got \(quoted(value))"
      : nil
  }

  /// One `storage_option` entry this daemon can honour (see `StorageOptions`).
  static let storageOption: Text = { value in
    do throws(StorageOptionError) {
      _ = try StorageOptions(parsing: [value])
      return nil
    } catch {
      return "\(quoted(value)) cannot take effect: \(error.reason)"
    }
  }

  /// The overlay driver is the only one: "" is containers/storage's "pick one",
  /// which is overlay here as on every current node.
  static let storageDriver: Text = { value in
    ["", "overlay", "overlay2"].contains(value)
      ? nil : "\(quoted(value)) cannot take effect: this daemon stores containers with the overlay driver only (\"overlay\" or \"\")"
  }

  /// Linux cpuset list syntax: `0-3,6`; "" means unset.
  static let cpuset: Text = { value in
    guard !value.isEmpty else { return nil }
    let valid = value.split(separator: ",", omittingEmptySubsequences: false).allSatisfy { item in
      let bounds = item.split(separator: "-", omittingEmptySubsequences: false)
      let numbers = bounds.compactMap { bound in bound.allSatisfy(\.isASCIIDigit) ? Int(bound) : nil }
      return numbers.count == bounds.count && (numbers.count == 1 || (numbers.count == 2 && numbers[0] <= numbers[1]))
    }
    return valid ? nil : "expected a cpuset list such as \"0-3,6\", got \(quoted(value))"
  }

  /// `containerID:hostID:size[,...]`; "" means no mappings.
  static let idMappings: Text = { value in
    guard !value.isEmpty else { return nil }
    let valid = value.split(separator: ",", omittingEmptySubsequences: false).allSatisfy { range in
      let fields = range.split(separator: ":", omittingEmptySubsequences: false)
      let numbers = fields.compactMap { field in field.allSatisfy(\.isASCIIDigit) ? UInt32(field) : nil }
      return fields.count == 3 && numbers.count == 3 && numbers[2] > 0
    }
    return valid ? nil : "expected \"containerID:hostID:size\" ranges separated by commas, got \(quoted(value))"
  }

  /// `log_filter` must compile; Swift's regex syntax is close to Go's RE2 for filter patterns.
  static let regex: Text = { value in
    guard !value.isEmpty else { return nil }
    do {
      _ = try Regex(value)
      return nil
    } catch {
      return "expected a regular expression, got \(quoted(value)) (\(error))"
    }
  }

  /// Handler names become TOML table names, file names and CRI handler strings.
  static let handlerName: Text = { value in
    let valid = !value.isEmpty && value.unicodeScalars.allSatisfy { scalar in
      scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "_.-".unicodeScalars.contains(scalar))
    }
    return valid ? nil : "expected a runtime handler name made of A-Z, a-z, 0-9, \"_\", \".\" and \"-\", got \(quoted(value))"
  }

  static func quoted(_ value: String) -> String {
    TOMLText.quoted(value)
  }

  /// `"a", "b" or "c"`.
  static func alternatives(_ choices: [String]) -> String {
    let quotedChoices = choices.map(quoted)
    guard let last = quotedChoices.last, quotedChoices.count > 1 else { return quotedChoices.first ?? "" }
    return quotedChoices.dropLast().joined(separator: ", ") + " or " + last
  }
}

extension Character {
  fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
