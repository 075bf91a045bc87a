import FoundationEssentials
import OCI
import Support

/// One file of a hooks directory (containers/common pkg/hooks,
/// oci-hooks(5)): the hook to run, when it applies and at which stages.
public struct HookFile: Sendable, Equatable {
  public static let version = "1.0.0"

  public var hook: Spec.Hook
  public var when: HookCondition
  public var stages: [Spec.Hooks.Stage]

  public init(hook: Spec.Hook, when: HookCondition, stages: [Spec.Hooks.Stage]) {
    self.hook = hook
    self.when = when
    self.stages = stages
  }

  /// Reads and checks a hook file as containers/common does: version
  /// 1.0.0 (or the older 0.1.0, read as its 1.0.0 equivalent), a hook
  /// path that exists, patterns that compile, known stages. `exists` is
  /// asked about the hook's path (tests pass their own).
  public init(parsing bytes: [UInt8], exists: (String) -> Bool = { Files.kind(of: $0) != .missing }) throws(HookFileError) {
    struct Version: Decodable { var version: String? }
    let data = Data(bytes)
    let version: String
    do {
      version = try JSONDecoder().decode(Version.self, from: data).version ?? ""
    } catch {
      throw HookFileError("version check: \(Self.reason(error))")
    }
    let document: Document
    do {
      switch version {
      case Self.version: document = try JSONDecoder().decode(Document.self, from: data)
      case "", LegacyHookFile.version: document = try JSONDecoder().decode(LegacyHookFile.self, from: data).current()
      default: throw HookFileError("unrecognized hook version \(String(reflecting: version))")
      }
    } catch let error as HookFileError {
      throw error
    } catch {
      throw HookFileError(Self.reason(error))
    }
    guard !document.hook.path.isEmpty else { throw HookFileError("missing required property: hook.path") }
    guard exists(document.hook.path) else { throw HookFileError("hook.path \(document.hook.path) does not exist") }
    let when = document.when ?? HookCondition()
    try when.check()
    guard let names = document.stages else { throw HookFileError("missing required property: stages") }
    var stages: [Spec.Hooks.Stage] = []
    for name in names {
      guard let stage = Spec.Hooks.Stage(rawValue: name) else { throw HookFileError("unknown stage \(String(reflecting: name))") }
      stages.append(stage)
    }
    self.init(hook: document.hook, when: when, stages: stages)
  }

  /// Foundation's decoding errors, said shortly.
  static func reason(_ error: any Error) -> String {
    switch error {
    case DecodingError.keyNotFound(let key, let context):
      "missing required property: \((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))"
    case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
      "\(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)"
    case DecodingError.dataCorrupted(let context):
      "not valid JSON: \(context.underlyingError.map { "\($0)" } ?? context.debugDescription)"
    default:
      "\(error)"
    }
  }
}

/// A hook file's fields in the current format.
struct Document: Decodable {
  var hook: Spec.Hook
  var when: HookCondition?
  var stages: [String]?
}

/// Why a hook file is left out.
public struct HookFileError: Error, Sendable, Equatable, CustomStringConvertible {
  public var description: String
  public init(_ description: String) { self.description = description }
}
