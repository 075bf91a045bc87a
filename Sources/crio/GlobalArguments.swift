/// CRI-O's flags are global (urfave/cli): `crio --config X config` and
/// `crio config --config X` mean the same. ArgumentParser only knows a
/// command's own options, so the command line is rewritten before it sees
/// it: every global flag, wherever it stands, becomes one hidden
/// `--global-flag name=value` placed right after the subcommand's name,
/// where the `GlobalOptions` group of that command reads it back.
struct GlobalArguments: Equatable {
  /// The hidden option the rewritten flags travel in.
  static let carrier = "--global-flag"

  /// The subcommands that read the configuration; the others (version,
  /// status, man…) accept global flags before their name, as CRI-O does,
  /// and ignore them, while their own options after the name stay theirs
  /// (`crio status -s SOCKET` is status's socket, not `--storage-driver`).
  static let configured: Set<String> = ["daemon", "config", "wipe", "install-cni-config"]

  /// Every subcommand name, to tell a subcommand from a value.
  let subcommands: Set<String>

  struct Failure: Error, Equatable {
    let message: String
  }

  /// The arguments ArgumentParser gets (without the program name).
  func rewrite(_ arguments: [String]) throws(Failure) -> [String] {
    var kept: [String] = []
    var globals: [String] = []
    /// Where the carried flags go: after the subcommand's name, or first
    /// (the daemon, the default subcommand).
    var insertion = 0
    var command: String?
    var index = 0
    while index < arguments.count {
      let argument = arguments[index]
      index += 1
      if argument == "--" {
        kept += arguments[(index - 1)...]
        break
      }
      let readsGlobals = command.map { Self.configured.contains($0) } ?? true
      if readsGlobals, let (flag, inline) = Self.match(argument) {
        var value = inline
        if value == nil {
          if flag.takesValue {
            guard index < arguments.count else { throw Failure(message: "missing value for \(flag.spelling)") }
            value = arguments[index]
            index += 1
          } else {
            value = "true"
          }
        }
        if case .refused(let reason) = flag.target {
          throw Failure(message: "\(flag.spelling) is not supported by this daemon: \(reason)")
        }
        globals += [Self.carrier, flag.name + "=" + value!]
        continue
      }
      if command == nil, !argument.hasPrefix("-"), subcommands.contains(argument) {
        command = argument
        kept.append(argument)
        insertion = kept.count
        continue
      }
      kept.append(argument)
    }
    guard command.map({ Self.configured.contains($0) }) ?? true else { return kept }
    kept.insert(contentsOf: globals, at: insertion)
    return kept
  }

  /// `--name`, `--name=value`, `-c`, `-c=value` of a global flag.
  static func match(_ argument: String) -> (GlobalFlag, String?)? {
    if argument.hasPrefix("--") {
      let body = argument.dropFirst(2)
      let name = body.prefix { $0 != "=" }
      guard let flag = GlobalFlag.named(String(name)) else { return nil }
      return (flag, name.count < body.count ? String(body.dropFirst(name.count + 1)) : nil)
    }
    guard argument.hasPrefix("-"), argument.count >= 2 else { return nil }
    let letter = argument.dropFirst().first!
    guard let flag = GlobalFlag.short(letter) else { return nil }
    if argument.count == 2 { return (flag, nil) }
    guard argument.dropFirst(2).first == "=" else { return nil }
    return (flag, String(argument.dropFirst(3)))
  }
}
