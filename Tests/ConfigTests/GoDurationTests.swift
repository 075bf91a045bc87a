import Testing

@testable import Config

@Suite struct GoDurationTests {
  @Test(arguments: [
    ("0", Int64(0)), ("0s", 0), ("+0", 0), ("-0", 0), ("1ns", 1), ("1us", 1_000), ("1\u{00B5}s", 1_000),
    ("1\u{03BC}s", 1_000), ("500ms", 500_000_000), ("1m30s", 90_000_000_000), ("2h", 7_200_000_000_000),
    ("1.5h", 5_400_000_000_000), (".5s", 500_000_000), ("1.s", 1_000_000_000), ("-1.5s", -1_500_000_000),
    ("1h2m3s4ms5us6ns", 3_723_004_005_006), ("9223372036854775807ns", Int64.max),
    ("-9223372036854775808ns", Int64.min), ("0.000000001s", 1), ("100.00000000000000000000001s", 100_000_000_000),
  ])
  func parsesGoSyntax(text: String, nanoseconds: Int64) {
    #expect(GoDuration(text)?.nanoseconds == nanoseconds)
  }

  @Test(arguments: [
    "", "1", "s", "-", "+", ".s", "1x", "1e3s", "1s ", " 1s", "- 1s", "1h-1m", "9223372036854775808ns",
    "2562048h", "1..5s", "１s",
  ])
  func rejectsWhatGoRejects(text: String) {
    #expect(GoDuration(text) == nil)
  }

  @Test func convertsToSwiftDuration() {
    #expect(GoDuration("1m30s")?.duration == .seconds(90))
    var api = APIConfig()
    #expect(api.streamIdleTimeoutDuration == nil)
    api.streamIdleTimeout = "250ms"
    #expect(api.streamIdleTimeoutDuration == .milliseconds(250))
  }
}
