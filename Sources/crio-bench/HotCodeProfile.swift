#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import CRIAPI
import CRIClient
import Support
import SwiftProtobuf
import TestFixtures

/// Writes the list of functions that `Sources/crio/Link/crio.ld` gathers at
/// the front of the daemon's `.text` (`Sources/crio/Link/hot-code.ld`; run
/// through `Scripts/hot-code-order.sh`). The kernel maps an executable's
/// code 64 KiB and more around each page that runs, so how many pages of
/// the binary are resident depends on how spread out the functions that
/// run are, far more than on how many there are (docs/footprint.md).
///
/// The daemon at `CRIO_BINARY` (or beside this tool) runs under callgrind
/// twice: a start-up, then a start-up followed by what kubelet does with a
/// pod (a pull, its list and stats calls, a pod and a container run, an
/// ExecSync probe, stop and removal). Each ends with SIGTERM, so callgrind
/// writes its profile. The script names the functions the first run ran,
/// then those only the second ran: start-up code first, so an idle daemon
/// maps the least.
struct HotCodeProfile: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "hot-code",
    abstract: "Profiles the daemon under callgrind and writes the list of its hot functions for the link.")

  @Option(help: "The list to write (hot-code.ld).") var output: String
  @Option(help: "valgrind, whose callgrind tool lists the functions run.") var valgrind = "/usr/bin/valgrind"

  func run() async throws {
    let scratch = try Files.makeTemporaryDirectory(prefix: "crio-hot-code")
    defer { Files.removeTree(scratch) }
    // callgrind reads the symbol table; the debug info only slows it down.
    let daemon = scratch + "/crio"
    let strip = try await Processes.run("/usr/bin/strip", ["--strip-debug", "-o", daemon, CrioBinary.path])
    guard strip.status == 0 else { throw ValidationError("strip failed: \(strip.stderr)") }
    let wrapper = scratch + "/crio-under-callgrind"
    try Files.write(wrapper, """
      #!/bin/sh
      exec \(valgrind) --quiet --tool=callgrind --demangle=no --callgrind-out-file="$CRIO_HOT_CODE_PROFILE" \(daemon) "$@"

      """, mode: 0o755)
    setenv("CRIO_BINARY", wrapper, 1)

    let startUp = scratch + "/start-up.callgrind", pod = scratch + "/pod.callgrind"
    try await RegistryServer.withRunning { registry in
      let dir = try Files.makeTemporaryDirectory(prefix: "crio-hot-code-registry")
      defer { Files.removeTree(dir) }
      try await BenchImage.push(to: registry, repository: "hot-code", applets: ["sleep", "true"])
      let config = try registry.pullConfiguration(in: dir)
      try await profile(config: config, into: startUp) { _ in }
      try await profile(config: config, into: pod) { cri in
        try await podLifecycle(cri, image: "\(registry.host)/hot-code:1")
      }
    }

    let first = try functions(inProfile: startUp, of: daemon)
    let seen = Set(first)
    let then = try functions(inProfile: pod, of: daemon).filter { !seen.contains($0) }
    try Files.write(output, Self.linkerScript(startUp: first, pod: then))
    print("\(output): \(first.count) functions of start-up, then \(then.count) of a pod's lifecycle")
  }

  /// Runs one daemon under callgrind through `workload`, then stops it
  /// with SIGTERM and waits for the profile.
  func profile(config: String, into file: String, _ workload: (CRIConnection) async throws -> Void) async throws {
    let daemon = try DaemonProcess(config: config, environment: ["CRIO_HOT_CODE_PROFILE=\(file)"])
    try await withCleanUp {
      try await daemon.waitUntilReady(timeout: .seconds(120))
      try await CRIConnection.with(socket: daemon.socket) { cri in
        // kubelet's first calls to a runtime.
        _ = try await cri.runtime.version(.init())
        _ = try await cri.runtime.status(.init())
        try await workload(cri)
      }
      guard await daemon.stop(timeout: .seconds(120)) == 0 else {
        throw ValidationError("the daemon under callgrind did not stop cleanly:\n\(daemon.log())")
      }
    } cleanUp: {
      await daemon.cleanUp()
    }
  }

  /// What kubelet does with a pod: a pull, the reads it repeats all day,
  /// a pod and a container run, an ExecSync probe, stop and removal.
  func podLifecycle(_ cri: CRIConnection, image: String) async throws {
    _ = try await cri.image.pullImage(.with { $0.image.image = image })
    _ = try await cri.image.listImages(.init())
    _ = try await cri.image.imageStatus(.with { $0.image.image = image })
    _ = try await cri.image.imageFsInfo(.init())
    let pod = try await BenchPod.run(cri, name: "hot-code", image: image)
    let id = try await pod.start("sleeper", ["/bin/sleep", "100000"])
    _ = try await cri.runtime.execSync(.with { $0.containerID = id; $0.cmd = ["/bin/true"]; $0.timeout = 60 })
    _ = try await cri.runtime.containerStatus(.with { $0.containerID = id })
    _ = try await cri.runtime.podSandboxStatus(.with { $0.podSandboxID = pod.id })
    _ = try await cri.runtime.listPodSandbox(.init())
    _ = try await cri.runtime.listContainers(.init())
    _ = try await cri.runtime.listContainerStats(.init())
    _ = try await cri.runtime.listPodSandboxStats(.init())
    _ = try await cri.runtime.stopContainer(.with { $0.containerID = id; $0.timeout = 0 })
    _ = try await cri.runtime.removeContainer(.with { $0.containerID = id })
    try await pod.remove()
  }

  /// The functions of `binary` a callgrind profile shows run, in the order
  /// the profile first names them. callgrind names an object (`ob=`) and a
  /// function (`fn=`, `cfn=`) in full once, then by its number alone.
  func functions(inProfile file: String, of binary: String) throws -> [String] {
    var objects: [Substring: Substring] = [:], names: [Substring: Substring] = [:]
    var inBinary = false
    var found: [String] = [], seen: Set<Substring> = []
    for line in try Files.read(file).split(separator: "\n") {
      guard let equals = line.firstIndex(of: "="), line[line.index(after: equals)...].hasPrefix("(") else { continue }
      let key = line[..<equals]
      let rest = line[line.index(equals, offsetBy: 2)...]
      guard let close = rest.firstIndex(of: ")") else { continue }
      let number = rest[..<close]
      let name = rest[rest.index(after: close)...].drop { $0 == " " }
      switch key {
      case "ob", "cob":
        if !name.isEmpty { objects[number] = name }
        if key == "ob" { inBinary = objects[number] == binary[...] }
      case "fn", "cfn":
        if !name.isEmpty { names[number] = name }
        if key == "fn", inBinary, let function = names[number], Self.isSectionName(function),
          seen.insert(function).inserted
        {
          found.append(String(function))
        }
      default: continue
      }
    }
    guard !found.isEmpty else { throw ValidationError("\(file) names no function of \(binary)") }
    return found
  }

  /// Symbols as compilers name them (Swift's mangling included); anything
  /// else could not be written into the script unquoted, and names no
  /// section.
  static func isSectionName(_ symbol: Substring) -> Bool {
    symbol.utf8.allSatisfy { byte in
      (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
        || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "$")
        || byte == UInt8(ascii: ".")
    }
  }

  /// Code that has a section of its own (Swift's `-function-sections`,
  /// C's `-ffunction-sections`, as release-build.sh builds) is named
  /// `.text.<symbol>`; a function without one (parts of the prebuilt
  /// standard library) matches nothing here and stays where it is. The
  /// lines go inside crio.ld's `.text` (INCLUDE).
  static func linkerScript(startUp: [String], pod: [String]) -> String {
    var script = """
      /* Written by Scripts/hot-code-order.sh (crio-bench hot-code); do not
         edit. crio.ld includes it at the front of .text: the functions a
         start-up of the daemon runs, then those a pod's lifecycle adds (a
         pull, kubelet's reads, a pod and a container, an ExecSync). A
         function renamed since is simply not gathered; run the script
         again when `bench.sh footprint` shows the hot code shrinking. */

      """
    for function in startUp + pod { script += "*(.text.\(function))\n" }
    return script
  }

  /// The functions a list `linkerScript` wrote names.
  static func functions(inList script: String) -> Set<Substring> {
    Set(script.split(separator: "\n").compactMap { line in
      line.hasPrefix("*(.text.") && line.hasSuffix(")") ? line.dropFirst("*(.text.".count).dropLast() : nil
    })
  }
}
