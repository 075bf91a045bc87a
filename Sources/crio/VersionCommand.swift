import ArgumentParser
import BuildInfo
import Support

/// `crio version`: where this binary came from, as text or JSON.
struct VersionCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "version",
    abstract: "Print version, git commit, build date and compiler."
  )

  @Flag(help: "Print JSON instead of text.")
  var json = false

  func run() {
    let facts: [(String, String)] = [
      ("version", ProjectVersion.version),
      ("gitCommit", BuildInfo.gitCommit),
      ("gitCommitDate", BuildInfo.gitCommitDate),
      ("buildDate", BuildInfo.buildDate),
      ("compiler", BuildInfo.compiler),
      ("platform", Self.platform),
      ("runtimeName", ProjectVersion.runtimeName),
      ("runtimeAPIVersion", ProjectVersion.runtimeAPIVersion),
      ("criAPI", ProjectVersion.criAPIRelease),
    ]
    if json {
      print(JSONValue.object(facts.map { ($0.0, .string($0.1)) }).rendered())
    } else {
      let width = facts.map(\.0.count).max()! + 2
      for (key, value) in facts {
        let label = key.prefix(1).uppercased() + key.dropFirst() + ":"
        print(label + String(repeating: " ", count: width - label.count + 1) + value)
      }
    }
  }

  static var platform: String {
    #if arch(x86_64)
    "linux/amd64"
    #elseif arch(arm64)
    "linux/arm64"
    #else
    "linux/unknown"
    #endif
  }
}
