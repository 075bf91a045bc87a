import Foundation
import PackagePlugin

/// Compiles the pod init (`Sources/PodInit/pause.c`) with the toolchain's
/// clang into a static executable without a C library (under 1 KB), and
/// embeds its bytes in the PodInit target. The daemon writes them into a
/// read-only root of their own, so the installed daemon is still one file.
/// A build command: it runs again only when pause.c changes.
@main
struct PodInitPlugin: BuildToolPlugin {
  func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
    let source = target.directoryURL.appending(path: "pause.c")
    let work = context.pluginWorkDirectoryURL
    let output = work.appending(path: "generated/PodInitBinary+Generated.swift")
    let script = """
      set -eu
      mkdir -p "$(dirname "$3")"
      "$1" -Os -static -nostdlib -ffreestanding -fno-stack-protector -fno-asynchronous-unwind-tables \\
        -fno-pic -Wl,--build-id=none -Wl,-z,noexecstack -s -o "$4" "$2"
      {
        printf '// Generated from Sources/PodInit/pause.c by PodInitPlugin; never edited.\\n'
        printf 'extension PodInitBinary {\\n  static let bytes: [UInt8] = ['
        od -An -v -tu1 "$4" | tr -s ' \\n' ',' | sed 's/^,//; s/,$//'
        printf ']\\n}\\n'
      } > "$3.tmp"
      mv "$3.tmp" "$3"
      """
    let clang = try context.tool(named: "clang").url
    return [
      .buildCommand(
        displayName: "Compiling the pod init",
        executable: URL(fileURLWithPath: "/bin/sh"),
        arguments: ["-c", script, "sh", clang.path, source.path, output.path, work.appending(path: "pause").path],
        inputFiles: [source],
        outputFiles: [output]
      )
    ]
  }
}
