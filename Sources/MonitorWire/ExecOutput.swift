
/// ExecSync's captured output, bounded: each stream is read from its pipe up
/// to the whole budget, then both are cut to share it.
public enum ExecOutput {
  /// The most ExecSync returns of stdout and stderr together. The CRI asks
  /// runtimes to cap the output at 16 MiB, the receive limit of kubelet and
  /// crictl; that limit applies to the whole response message, so both
  /// streams share it, less room for the message's own framing (two field
  /// headers of at most 5 bytes and an exit code of at most 11).
  public static let maximumBytes = (16 << 20) - 1024

  /// How many bytes of stdout and stderr to keep when together they may be
  /// at most `total`: all of both when they fit; otherwise a stream shorter
  /// than half the budget keeps everything and the other gets the rest, and
  /// two long streams get half each (stdout the odd byte).
  public static func split(stdout: Int, stderr: Int, total: Int) -> (stdout: Int, stderr: Int) {
    guard stdout + stderr > total else { return (stdout, stderr) }
    let half = total / 2
    if stdout <= half { return (stdout, total - stdout) }
    if stderr <= half { return (total - stderr, stderr) }
    return (total - half, half)
  }
}
