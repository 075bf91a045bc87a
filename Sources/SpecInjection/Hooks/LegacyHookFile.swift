import OCI

/// A hook file of format 0.1.0 (or with no version), which containers/common
/// still reads by turning it into a 1.0.0 one: `hook` is the path, each
/// condition alone suffices, and annotation patterns match any key.
struct LegacyHookFile: Decodable {
  static let version = "0.1.0"

  var hook: String?
  var arguments: [String]?
  var stages: [String]?
  var stage: [String]?
  var cmds: [String]?
  var cmd: [String]?
  var annotations: [String]?
  var annotation: [String]?
  var hasbindmounts: Bool?

  func current() throws(HookFileError) -> Document {
    guard let hook else { throw HookFileError("missing required property: hook") }
    func one(_ plural: [String]?, _ singular: [String]?, _ names: String) throws(HookFileError) -> [String]? {
      if plural != nil && singular != nil { throw HookFileError("cannot set both \(names)") }
      return plural ?? singular
    }
    guard let stages = try one(stages, stage, "'stage' and 'stages'") else {
      throw HookFileError("missing required property: stages")
    }
    let commands = try one(cmds, cmd, "'cmd' and 'cmds'")
    let annotations = try one(annotations, annotation, "'annotation' and 'annotations'")
    return Document(
      hook: Spec.Hook(path: hook, args: arguments.map { [hook] + $0 }),
      when: HookCondition(
        annotations: annotations.map { [".*": $0.joined(separator: "|")] }, commands: commands,
        hasBindMounts: hasbindmounts, anyCondition: true),
      stages: stages)
  }
}
