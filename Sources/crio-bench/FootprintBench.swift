#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import CRIAPI
import CRIClient
import Support
import SwiftProtobuf
import TestFixtures

/// What a node pays for the daemon itself: the binary as built and as
/// installed (stripped), cold start, and resident memory (RSS, split into
/// anonymous and file-backed, and PSS) idle after start and after one pod
/// lifecycle; each beside the figures issue 16 started from. Pulls and 100
/// running containers are `pull` and `lifecycle`.
struct FootprintBench: AsyncParsableCommand {
  static let configuration = CommandConfiguration(commandName: "footprint")

  @Option(help: "Daemon starts to time.") var starts = 20

  // Issue 16's figures, before the daemon dropped Foundation and ICU.
  static let binaryBefore = "221 MB built, 100 MB stripped"
  static let startBefore = "~33 ms p50 (27.9 ms at stop 21)"
  static let idleBefore = "RSS 43-48 MiB (anonymous 4, file-backed 40)"

  func run() async throws {
    let binary = CrioBinary.path
    let scratch = try Files.makeTemporaryDirectory(prefix: "crio-footprint")
    defer { Files.removeTree(scratch) }
    let stripped = scratch + "/crio"
    let strip = try await Processes.run("/usr/bin/strip", ["--strip-unneeded", "-o", stripped, binary])
    guard strip.status == 0 else { throw ValidationError("strip failed: \(strip.stderr)") }
    print("binary: \(megabytes(fileSize(binary))) MB built, \(megabytes(fileSize(stripped))) MB installed (stripped)  [before: \(Self.binaryBefore)]")
    try await printHotCode(binary)

    report("cold start to socket ready", try await coldStarts(starts))
    print("  [before: \(Self.startBefore)]")

    try await RegistryServer.withRunning { registry in
      let dir = try Files.makeTemporaryDirectory(prefix: "crio-bench")
      defer { Files.removeTree(dir) }
      try await BenchImage.push(to: registry, repository: "footprint", applets: ["sleep"])
      // As after a boot: the binary read afresh from disk, through the
      // daemon's own page faults. Left as strip and the cold starts read
      // it, the page cache holds it in larger folios, which are mapped
      // whole (1-3 MiB more code resident, varying from run to run).
      try evictFromPageCache(binary)
      let daemon = try DaemonProcess(config: try registry.pullConfiguration(in: dir))
      try await withCleanUp {
        try await daemon.waitUntilReady(timeout: .seconds(30))
        try await Task.sleep(for: .seconds(1))
        print("idle after start (binary read afresh): \(memory(daemon.pid))  [before: \(Self.idleBefore)]")
        printMappings(daemon.pid)
        try await CRIConnection.with(socket: daemon.socket) { cri in
          let image = "\(registry.host)/footprint:1"
          _ = try await cri.image.pullImage(.with { $0.image.image = image })
          let pod = try await BenchPod.run(cri, name: "footprint", image: image)
          let id = try await pod.start("sleeper", ["/bin/sleep", "100000"])
          _ = try await cri.runtime.stopContainer(.with { $0.containerID = id; $0.timeout = 0 })
          try await pod.remove()
        }
        try await Task.sleep(for: .seconds(1))
        print("idle after one pull and one pod lifecycle: \(memory(daemon.pid))")
      } cleanUp: {
        await daemon.cleanUp()
      }
    }
  }

  /// How many of the functions `Sources/crio/Link/hot-code.ld` lists the
  /// binary still has, and their size: renamed functions are no longer
  /// gathered, and the figure falls (then run Scripts/hot-code-order.sh).
  func printHotCode(_ binary: String) async throws {
    let list = String(#filePath.dropLast("Sources/crio-bench/FootprintBench.swift".count)) + "Sources/crio/Link/hot-code.ld"
    guard let text = try? Files.read(list) else { return }
    let listed = HotCodeProfile.functions(inList: text)
    let symbols = try await Processes.run("/usr/bin/nm", ["--defined-only", "-S", binary], timeout: .seconds(120))
    var present = Set<Substring>(), bytes = 0
    for line in symbols.stdout.split(separator: "\n") {
      let fields = line.split(separator: " ")
      guard fields.count == 4, listed.contains(fields[3]), present.insert(fields[3]).inserted else { continue }
      bytes += Int(fields[1], radix: 16) ?? 0
    }
    print("hot code (Link/hot-code.ld): \(present.count) of \(listed.count) listed functions in the binary, \(megabytes(bytes)) MB")
  }

  func evictFromPageCache(_ path: String) throws {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw ValidationError("cannot open \(path): \(SystemError("open").reason)") }
    defer { close(fd) }
    let status = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)
    guard status == 0 else { throw ValidationError("cannot evict \(path) from the page cache: error \(status)") }
  }

  func memory(_ pid: pid_t) -> String {
    let figures = [("RSS", "Rss"), ("anonymous", "Anonymous"), ("PSS", "Pss")].map { name, field in
      "\(name) \(mebibytes(kibibytes(field, pid, in: "smaps_rollup")))"
    }
    let fileBacked = kibibytes("Rss", pid, in: "smaps_rollup") - kibibytes("Anonymous", pid, in: "smaps_rollup")
    return figures.joined(separator: ", ") + " MiB (file-backed \(mebibytes(fileBacked)) MiB)"
  }

  /// Resident pages by what they map (smaps): the binary's code, its
  /// writable data, each shared library, the heap and other anonymous memory.
  func printMappings(_ pid: pid_t) {
    guard let smaps = try? Files.read("/proc/\(pid)/smaps") else { return }
    var totals: [String: (rss: Int, pss: Int)] = [:]
    var current = ""
    for line in smaps.split(separator: "\n") {
      let fields = line.split(separator: " ", omittingEmptySubsequences: true)
      if let first = fields.first, first.contains("-"), fields.count >= 5 {
        let permissions = fields[1]
        let name = fields.count > 5 ? String(fields[5...].joined(separator: " ")) : "[anonymous]"
        let file = name.hasPrefix("/") ? String(name.split(separator: "/").last ?? "") : name
        current = file.hasPrefix("crio") || !name.hasPrefix("/") ? "\(file) \(permissions)" : file
      } else if fields.count >= 2, fields[0] == "Rss:" || fields[0] == "Pss:", let kib = Int(fields[1]) {
        var entry = totals[current] ?? (0, 0)
        if fields[0] == "Rss:" { entry.rss += kib } else { entry.pss += kib }
        totals[current] = entry
      }
    }
    print("  resident by mapping (RSS / PSS MiB):")
    for (name, entry) in totals.sorted(by: { $0.value.rss > $1.value.rss }).prefix(14) where entry.rss >= 64 {
      print("    \(mebibytes(entry.rss)) / \(mebibytes(entry.pss))  \(name)")
    }
  }

  func fileSize(_ path: String) -> Int {
    var info = stat()
    return stat(path, &info) == 0 ? Int(info.st_size) : 0
  }

  func megabytes(_ bytes: Int) -> String { "\(bytes / 1_000_000).\((bytes % 1_000_000) / 100_000)" }
  func mebibytes(_ kib: Int) -> String { "\(kib / 1024).\((kib % 1024) * 10 / 1024)" }
}
