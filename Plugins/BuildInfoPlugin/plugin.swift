import Foundation
import PackagePlugin

/// Stamps the git commit, build date and compiler version into the BuildInfo
/// target, so `crio version` can say which source a binary came from.
/// A prebuild command because it must run on every build (the commit moves);
/// it writes only when the content changes, so an unchanged tree rebuilds nothing.
@main
struct BuildInfoPlugin: BuildToolPlugin {
  func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
    let outputDir = context.pluginWorkDirectoryURL.appending(path: "generated")
    let output = outputDir.appending(path: "BuildInfo+Generated.swift")
    let script = """
      set -u
      cd "$1" || exit 1
      commit=$(git rev-parse --verify -q HEAD 2>/dev/null) || commit=unknown
      if [ "$commit" != unknown ] && [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then commit="$commit-dirty"; fi
      date=$(git log -1 --format=%cI 2>/dev/null || date -u +%Y-%m-%dT%H:%M:%SZ)
      built=$(date -u +%Y-%m-%dT%H:%M:%SZ)
      compiler=$("$3" --version 2>/dev/null | head -n 1 | sed 's/"/\\\\"/g')
      mkdir -p "$(dirname "$2")"
      new=$(printf 'extension BuildInfo {\\n  public static let gitCommit = "%s"\\n  public static let gitCommitDate = "%s"\\n  public static let buildDate = "%s"\\n  public static let compiler = "%s"\\n}\\n' "$commit" "$date" "${built%T*}" "${compiler:-unknown}")
      if [ ! -f "$2" ] || [ "$(cat "$2")" != "$new" ]; then printf '%s\\n' "$new" > "$2"; fi
      """
    // The compiler SwiftPM builds with; its --version line is recorded.
    let swiftc = (try? context.tool(named: "swiftc").url.path) ?? "swiftc"
    return [
      .prebuildCommand(
        displayName: "Stamping build info",
        executable: URL(fileURLWithPath: "/bin/sh"),
        arguments: ["-c", script, "sh", context.package.directoryURL.path, output.path, swiftc],
        outputFilesDirectory: outputDir
      )
    ]
  }
}
