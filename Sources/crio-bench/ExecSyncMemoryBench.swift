import ArgumentParser
import CRIAPI
import CRIClient
import Support
import SwiftProtobuf

/// The daemon's resident memory around large ExecSync answers: the baseline
/// after small calls, then after answers of 16 MiB (the most ExecSync
/// returns) and after commands that print 32 MiB (capped to the same).
/// Figures only: what a daemon keeps after big answers is what kubelet's
/// probes would make it hold for good.
struct ExecSyncMemoryBench: AsyncParsableCommand {
  static let configuration = CommandConfiguration(commandName: "execsync-memory")

  @Option(help: "Large ExecSync calls of each kind.") var calls = 5

  func run() async throws {
    try await BenchPod.withDaemon(name: "execsync", applets: ["sh", "sleep", "true", "dd"]) { cri, daemon, pod in
      let id = try await pod.start("sleeper", ["/bin/sleep", "100000"])
      func exec(_ script: String) async throws -> Int {
        let answer = try await cri.runtime.execSync(.with { $0.containerID = id; $0.cmd = ["/bin/sh", "-c", script]; $0.timeout = 60 })
        return answer.stdout.count + answer.stderr.count
      }
      func settledRSS() async throws -> String {
        try await Task.sleep(for: .seconds(1))
        return rssMiB(daemon.pid)
      }
      for _ in 0..<20 { _ = try await exec("true") }
      print("RSS after 20 small ExecSync calls (baseline): \(try await settledRSS()) MiB")
      let zeros = "dd if=/dev/zero bs=16777216 count=1 iflag=fullblock 2>/dev/null"
      var returned = 0
      for call in 1...calls {
        returned = try await exec(zeros)
        if call == 1 { print("RSS after 1 ExecSync of 16 MiB (\(returned) bytes returned): \(try await settledRSS()) MiB") }
      }
      print("RSS after \(calls) ExecSync of 16 MiB: \(try await settledRSS()) MiB")
      for _ in 0..<calls { returned = try await exec("\(zeros); { \(zeros); } >&2") }
      print("RSS after \(calls) ExecSync printing 32 MiB (\(returned) bytes returned): \(try await settledRSS()) MiB")
      print("peak RSS (VmHWM): \(kibibytes("VmHWM", daemon.pid) / 1024) MiB")
    }
  }
}
