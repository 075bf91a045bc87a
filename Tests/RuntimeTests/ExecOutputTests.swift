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
}
