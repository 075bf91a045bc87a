import MonitorWire

/// ExecSync's output bounds, defined once in `MonitorWire` because the pod
/// monitor cuts its answers by the same rule; named here for the daemon,
/// whose modules do not import the wire protocol.
public enum ExecOutput {
  public static let maximumBytes = MonitorWire.ExecOutput.maximumBytes

  public static func split(stdout: Int, stderr: Int, total: Int) -> (stdout: Int, stderr: Int) {
    MonitorWire.ExecOutput.split(stdout: stdout, stderr: stderr, total: total)
  }
}
