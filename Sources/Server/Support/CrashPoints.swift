#if canImport(Glibc)
import Glibc
#endif

/// A test hook for crash safety: with `CRIO_TEST_CRASH_AT=<RPC>:<step>` in
/// its environment the daemon dies (`_exit`, as abruptly as SIGKILL: no
/// clean-up, no flush) when that RPC reaches that step, so a test can
/// restart it and check that every half-made resource is restored or
/// removed. Unset (always, outside tests), a point costs one comparison.
enum CrashPoints {
  private static let target: (rpc: String, step: Int)? = {
    guard let value = getenv("CRIO_TEST_CRASH_AT").map({ String(cString: $0) }),
      let colon = value.lastIndex(of: ":"), let step = Int(value[value.index(after: colon)...])
    else { return nil }
    return (String(value[..<colon]), step)
  }()

  static func reach(_ rpc: String, _ step: Int) {
    guard let target, target.rpc == rpc, target.step == step else { return }
    _exit(137)
  }
}
