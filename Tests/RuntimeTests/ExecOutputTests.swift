import Runtime
import Support
import Testing

/// ExecSync's output budget: stdout and stderr share it, and only what is
/// kept is read.
@Suite struct ExecOutputTests {
  @Test func streamsThatFitAreKeptWhole() {
    #expect(ExecOutput.split(stdout: 10, stderr: 5, total: 15) == (10, 5))
    #expect(ExecOutput.split(stdout: 0, stderr: 0, total: 15) == (0, 0))
  }

  @Test func aShortStreamKeepsAllAndTheOtherGetsTheRest() {
    #expect(ExecOutput.split(stdout: 100, stderr: 3, total: 20) == (17, 3))
    #expect(ExecOutput.split(stdout: 3, stderr: 100, total: 20) == (3, 17))
    #expect(ExecOutput.split(stdout: 16, stderr: 100, total: 20) == (10, 10))
    #expect(ExecOutput.split(stdout: 21, stderr: 0, total: 20) == (20, 0))
  }

  @Test func twoLongStreamsShareTheBudget() {
    #expect(ExecOutput.split(stdout: 100, stderr: 100, total: 20) == (10, 10))
    #expect(ExecOutput.split(stdout: 100, stderr: 100, total: 21) == (11, 10))
  }

  @Test func theBudgetFitsKubeletsReceiveLimitWithItsFraming() {
    // Two length-delimited fields (tag + 4-byte length) and an int32 exit
    // code (tag + up to 10 bytes for a negative one).
    #expect(ExecOutput.maximumBytes + 2 * 5 + 11 <= 16 << 20)
  }

  @Test func onlyTheKeptBeginningsAreRead() throws {
    let dir = try Files.makeTemporaryDirectory(prefix: "crio-execout")
    defer { Files.removeTree(dir) }
    try Files.write(dir + "/out", String(repeating: "o", count: 100))
    try Files.write(dir + "/err", "eee")
    let both = ExecOutput.read(stdout: dir + "/out", stderr: dir + "/err", limit: 20)
    #expect(both.stdout == Array(repeating: UInt8(ascii: "o"), count: 17))
    #expect(both.stderr == Array("eee".utf8))
    let missing = ExecOutput.read(stdout: dir + "/out", stderr: dir + "/absent", limit: 1000)
    #expect(missing.stdout.count == 100 && missing.stderr.isEmpty)
    #expect(try Files.readBytes(dir + "/out", upTo: 0).isEmpty)
  }
}
