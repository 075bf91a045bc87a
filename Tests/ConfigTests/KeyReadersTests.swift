import Support
import Testing

@testable import Config

/// Every key the loader accepts must do something. A key is read when its
/// property (the last component of its key path in ConfigSchema.swift) is
/// used anywhere outside the Config module, or it is accepted at its
/// default only (`refusedUnlessDefault`). A new key without a reader fails
/// this test; no key is inert any more.
@Suite struct KeyReadersTests {
  /// Accepted, not acted on yet: none (keep it so).
  static let knownInert: Set<String> = []

  /// Keys the Config module itself acts on: the deprecated monitor keys become the
  /// handlers' monitor settings when the configuration is loaded.
  static let actedOnInConfig: Set<String> = ["conmon", "conmon_cgroup", "conmon_env"]

  /// Keys read through a property of another name.
  static let readAs: [String: String] = [
    "pull_progress_timeout": "pullProgressTimeoutDuration", "storage_option": "storageOptions",
    "monitor_cgroup": "resolvedMonitorCgroup", "default_ulimits": "ulimits",
  ]

  static var sources: String {
    let here = #filePath
    return String(here[..<here.range(of: "/Tests/ConfigTests/")!.lowerBound]) + "/Sources"
  }

  /// (key, property) for every key declared in ConfigSchema.swift.
  static func declaredKeys() throws -> [(key: String, property: String)] {
    let schema = try Files.read(sources + "/Config/ConfigSchema.swift")
    return schema.split(separator: "\n").compactMap { line -> (String, String)? in
      guard let keyPath = line.range(of: #"\."#) else { return nil }
      let literals = line.split(separator: "\"", omittingEmptySubsequences: false).enumerated()
        .filter { $0.offset % 2 == 1 }.map { String($0.element) }
      // .kind("table", "key", …) or .kind(handlersTable, "key", …)
      let key = line.contains("(\"") ? (literals.count > 1 ? literals[1] : "") : (literals.first ?? "")
      let property = line[keyPath.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." }
      guard !key.isEmpty, key.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "_" }),
        let last = property.split(separator: ".").last
      else { return nil }
      return (key, String(last))
    }
  }

  /// The Swift sources outside Config (and the generated CRIAPI).
  static func readerText() throws -> String {
    var text = ""
    func walk(_ directory: String) throws {
      for name in try Files.list(directory) {
        let path = directory + "/" + name
        if Files.kind(of: path) == .directory {
          if name != "Config" && name != "CRIAPI" { try walk(path) }
        } else if name.hasSuffix(".swift") {
          text += try Files.read(path) + "\n"
        }
      }
    }
    try walk(sources)
    return text
  }

  static func isRead(_ property: String, in text: String) -> Bool {
    var rest = Substring(text)
    while let found = rest.range(of: "." + property) {
      let next = rest[found.upperBound...].first
      if next.map({ !($0.isLetter || $0.isNumber || $0 == "_") }) ?? true { return true }
      rest = rest[found.upperBound...]
    }
    return false
  }

  @Test func everyKeyHasAReaderOrIsListedAsInert() throws {
    let keys = try Self.declaredKeys()
    #expect(keys.count > 80, "the schema parses: \(keys.count) keys")
    let text = try Self.readerText()
    // A key accepted at its default only is honest without a reader: any other value stops start-up.
    let refused = Set(ConfigSchema.keys.filter { $0.unsupported != nil }.map(\.name))
      .union(ConfigSchema.handlerKeys.filter { $0.unsupported != nil }.map(\.name))
    let unread = Set(keys.filter { !Self.isRead(Self.readAs[$0.key] ?? $0.property, in: text) }.map(\.key))
      .subtracting(refused).subtracting(Self.actedOnInConfig)
    #expect(unread.subtracting(Self.knownInert).isEmpty, "keys with no reader: \(unread.subtracting(Self.knownInert).sorted())")
    #expect(Self.knownInert.subtracting(unread).isEmpty, "read now, drop from knownInert: \(Self.knownInert.subtracting(unread).sorted())")
  }
}
