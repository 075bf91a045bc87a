import CRIClient
import Support
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
}
