import OCI

/// A hook file's `when`: which containers get the hook. Patterns are
/// regular expressions matched anywhere in the text (Go's MatchString).
public struct HookCondition: Decodable, Sendable, Equatable {
  public var always: Bool?
  /// Key pattern → value pattern: some annotation must match both.
  public var annotations: [String: String]?
  /// Patterns for the container process's args[0].
  public var commands: [String]?
  public var hasBindMounts: Bool?
  /// Any one condition suffices (files of the older format 0.1.0); not in files.
  public var anyCondition = false

  enum CodingKeys: String, CodingKey { case always, annotations, commands, hasBindMounts }

  public init(
    always: Bool? = nil, annotations: [String: String]? = nil, commands: [String]? = nil, hasBindMounts: Bool? = nil,
    anyCondition: Bool = false
  ) {
    self.always = always
    self.annotations = annotations
    self.commands = commands
    self.hasBindMounts = hasBindMounts
    self.anyCondition = anyCondition
  }

  /// Every pattern compiles.
  func check() throws(HookFileError) {
    for (key, value) in annotations ?? [:] {
      guard Self.compiles(key) else { throw HookFileError("invalid annotation key \(String(reflecting: key))") }
      guard Self.compiles(value) else { throw HookFileError("invalid annotation value \(String(reflecting: value))") }
    }
    for command in commands ?? [] where !Self.compiles(command) {
      throw HookFileError("invalid command \(String(reflecting: command))")
    }
  }

  /// containers/common's When.Match: for 1.0.0 files every condition
  /// given must hold (an `always` or `hasBindMounts` that is false never
  /// holds) and at least one must be given; with `anyCondition` (0.1.0
  /// files) one that holds suffices. `commands`, checked last, decides
  /// alone: it holds when any pattern matches args[0].
  public func matches(args: [String]?, annotations given: [String: String], hasBindMounts bindMounts: Bool) throws(HookFileError) -> Bool {
    var matched = 0
    /// nil: keep going; true/false: the answer.
    func record(_ holds: Bool) -> Bool? {
      if holds {
        if anyCondition { return true }
        matched += 1
        return nil
      }
      return anyCondition ? nil : false
    }
    if let always, let answer = record(always) { return answer }
    if let hasBindMounts, let answer = record(hasBindMounts && bindMounts) { return answer }
    for (keyPattern, valuePattern) in annotations ?? [:] {
      let found = given.contains { key, value in Self.search(keyPattern, in: key) && Self.search(valuePattern, in: value) }
      if let answer = record(found) { return answer }
    }
    if let args, let commands, !commands.isEmpty {
      guard let command = args.first else { throw HookFileError("process.args must have at least one entry") }
      return commands.contains { Self.search($0, in: command) }
    }
    return matched > 0
  }

  static func compiles(_ pattern: String) -> Bool {
    (try? Regex(pattern)) != nil
  }

  /// Whether `pattern` matches somewhere in `text` (an invalid pattern,
  /// refused when the file was read, matches nothing).
  static func search(_ pattern: String, in text: String) -> Bool {
    guard let regex = try? Regex(pattern) else { return false }
    return text.contains(regex)
  }
}
