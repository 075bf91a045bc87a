import Support

/// `linux.maskedPaths` and `linux.readonlyPaths`: what of /proc and /sys a
/// container may not see or change.
public enum ProcfsProtection {
  /// containers/common's DefaultMaskedPaths plus CRI-O's additions
  /// (/proc/asound, /proc/interrupts), before the per-CPU thermal_throttle
  /// directories are added.
  public static let defaultMaskedPaths: [String] = [
    "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/sched_debug", "/proc/scsi",
    "/proc/timer_list", "/proc/timer_stats", "/sys/devices/virtual/powercap", "/sys/firmware",
    "/sys/fs/selinux", "/proc/interrupts", "/proc/asound",
  ]

  /// containers/common's DefaultReadOnlyPaths (what kubelet sends too).
  public static let defaultReadonlyPaths: [String] = [
    "/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
  ]

  /// `/sys/devices/system/cpu/cpu*/thermal_throttle` as they exist on this
  /// host (containers/common masks them too).
  public static func thermalThrottlePaths(cpuDirectory: String = "/sys/devices/system/cpu") -> [String] {
    guard let entries = try? Files.list(cpuDirectory) else { return [] }
    return entries.filter { $0.hasPrefix("cpu") }.sorted().map { cpuDirectory + "/" + $0 + "/thermal_throttle" }
      .filter { HostInfo.exists($0) }
  }

  /// The container's masked and read-only paths, following CRI-O:
  /// - privileged: none;
  /// - masked: when the CRI list is non-empty (kubelet sends its defaults
  ///   unless procMount is Unmasked), the defaults plus the CRI's, sorted
  ///   and without duplicates; when it is empty, none — or the defaults when
  ///   `defaultsWhenUnset` (for clients such as crictl that send nothing);
  /// - read-only: the CRI list as it is; when empty, none (or the defaults
  ///   with `defaultsWhenUnset`).
  public static func resolve(
    masked: [String], readonly: [String], privileged: Bool, defaultsWhenUnset: Bool = false,
    extraMasked: [String] = thermalThrottlePaths()
  ) -> (masked: [String], readonly: [String]) {
    if privileged { return ([], []) }
    let defaults = defaultMaskedPaths + extraMasked
    var maskedResult: [String] = []
    if !masked.isEmpty {
      maskedResult = Array(Set(defaults + masked)).sorted()
    } else if defaultsWhenUnset {
      maskedResult = Array(Set(defaults)).sorted()
    }
    let readonlyResult = readonly.isEmpty && defaultsWhenUnset ? defaultReadonlyPaths : readonly
    return (maskedResult, readonlyResult)
  }
}
