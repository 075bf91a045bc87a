/// Linux capability names (capability.h, up to CAP_CHECKPOINT_RESTORE), used to reject typos
/// in `default_capabilities` before they surface as container start failures.
public enum LinuxCapabilities {
  /// Names without the `CAP_` prefix, in kernel bit order.
  public static let names: [String] = [
    "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
    "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
    "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
    "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
    "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
    "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
  ]

  /// `"net_raw"`, `"CAP_NET_RAW"` and `"NET_RAW"` all give `"CAP_NET_RAW"`; unknown names give nil.
  public static func canonicalName(_ name: String) -> String? {
    var upper = name.uppercased()
    if upper.hasPrefix("CAP_") { upper.removeFirst(4) }
    return names.contains(upper) ? "CAP_" + upper : nil
  }
}
