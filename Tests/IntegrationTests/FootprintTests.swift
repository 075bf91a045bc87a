import CRIClient
import Support
import TestFixtures
import Testing

/// The daemon's binary links neither Foundation nor ICU (issue 16: together
/// 60 MB of the installed binary and most of its resident pages). One call
/// into either, by our code or a dependency, would link them again; the
/// debug binary's undefined symbols name every such call.
@Suite struct FootprintTests {
  @Test func theDaemonCallsNothingOfFoundationOrICU() async throws {
    let binary = CrioBinary.path
    #expect(Files.kind(of: binary) == .file, "no daemon binary at \(binary)")
    let symbols = try await Processes.run("/usr/bin/nm", ["--undefined-only", binary])
    #expect(symbols.status == 0, "\(symbols.stderr)")
    let lines = symbols.stdout.split(separator: "\n")
    #expect(lines.count > 20, "nm listed the binary's undefined symbols")
    // Swift mangles the module as its length and name ("10Foundation");
    // FoundationEssentials ("20FoundationEssentials", no ICU) is fine.
    let foundation = lines.filter { $0.contains("10Foundation") || $0.contains("FoundationInternationalization") || $0.contains("icu_") }
    #expect(foundation.isEmpty, "calls into Foundation or ICU:\n\(foundation.prefix(20).joined(separator: "\n"))")
  }

  /// libarchive (and the libxml2, ICU and compression libraries under it)
  /// is opened by the first unpack, not linked: an idle daemon has none of
  /// it mapped, and a pull still unpacks.
  @Test func libarchiveIsOpenedByTheFirstUnpack() async throws {
    let dynamic = try await Processes.run("/usr/bin/readelf", ["-d", CrioBinary.path])
    #expect(dynamic.status == 0, "\(dynamic.stderr)")
    let needed = dynamic.stdout.split(separator: "\n").filter { $0.contains("(NEEDED)") }
    #expect(needed.count >= 2, "readelf listed the libraries linked")
    #expect(!needed.contains { $0.contains("libarchive") }, "the daemon links libarchive: \(needed)")

    try await RegistryServer.withRunning { registry in
      try await TestImages.pushBusybox(to: registry)
      try await withImageDaemon(registry: registry) { cri, daemon in
        let idle = try Self.mappedLibraries(daemon.pid)
        #expect(idle.contains { $0.hasPrefix("libsqlite3") }, "the maps of the daemon were read: \(idle)")
        let early = idle.filter { ["libarchive", "libxml2", "libicuuc"].contains(where: $0.hasPrefix) }
        #expect(early.isEmpty, "an idle daemon has \(early) mapped")

        _ = try await cri.pull("\(registry.host)/busybox:1")
        #expect(daemon.unpackedLayers().count == 2, "both layers unpacked")
        #expect(try Self.mappedLibraries(daemon.pid).contains { $0.hasPrefix("libarchive.so") })
      }
    }
  }

  /// The file names of the shared libraries a process has mapped.
  static func mappedLibraries(_ pid: Int32) throws -> Set<String> {
    let maps = try Files.read("/proc/\(pid)/maps")
    return Set(maps.split(separator: "\n").compactMap { line in
      guard let path = line.split(separator: " ", omittingEmptySubsequences: true).last, path.contains(".so") else { return nil }
      return path.split(separator: "/").last.map(String.init)
    })
  }

  /// The pod monitor (one per pod) is the standard library and Glibc
  /// alone: it needs no library beyond Swift's core ones and the C
  /// library, and calls nothing of Foundation (any module), Dispatch, NIO
  /// or gRPC.
  @Test func thePodMonitorLinksOnlyTheStandardLibraryAndGlibc() async throws {
    let binary = String(CrioBinary.path.dropLast("crio".count)) + "crio-monitor"
    #expect(Files.kind(of: binary) == .file, "no pod monitor binary at \(binary)")
    let dynamic = try await Processes.run("/usr/bin/readelf", ["-d", binary])
    let needed = dynamic.stdout.split(separator: "\n").filter { $0.contains("(NEEDED)") }
    let allowed = ["libswiftCore", "libswift_Concurrency", "libswift_StringProcessing", "libswift_RegexParser", "libswiftGlibc",
                   "libswiftSwiftOnoneSupport", "libm.", "libc.", "libstdc++", "libgcc_s", "libpthread", "libdl", "librt",
                   // glibc's loader: the release build (Swift's runtime linked statically) names it.
                   "ld-linux"]
    let others = needed.filter { line in !allowed.contains { line.contains("[" + $0) } }
    #expect(others.isEmpty, "the pod monitor links \(others)")
    let symbols = try await Processes.run("/usr/bin/nm", ["--undefined-only", binary])
    let foreign = symbols.stdout.split(separator: "\n").filter { line in
      ["Foundation", "Dispatch", "dispatch_", "NIO", "GRPC"].contains { line.contains($0) }
    }
    #expect(foreign.isEmpty, "the pod monitor calls into \(foreign.prefix(20))")
  }
}
