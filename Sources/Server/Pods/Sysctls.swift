import Logging
import Support

/// Pod sysctls: only keys that live in the pod's own namespaces may be set,
/// so a pod can never change the node (the class of CVE-2022-0811); values
/// are single plain settings, never something that could smuggle a second one.
enum Sysctls {
  /// IPC-namespaced keys (besides `fs.mqueue.*`).
  static let ipcKeys: Set<String> = [
    "kernel.shm_rmid_forced", "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni",
    "kernel.sem", "kernel.shmall", "kernel.shmmax", "kernel.shmmni",
  ]

  /// `default_sysctls` that this pod can take, as CRI-O: one the pod's
  /// namespaces cannot hold (a net.* key on a host-network pod) is skipped with
  /// a warning rather than failing every such pod. The pod's own override them.
  static func withDefaults(_ defaults: [String], hostNetwork: Bool, hostIPC: Bool, logger: Logger) -> [String: String] {
    var result: [String: String] = [:]
    for entry in defaults {
      let parts = entry.split(separator: "=", maxSplits: 1).map { String($0.trimmingWhitespace()) }
      guard parts.count == 2 else { continue }
      do {
        _ = try validate([parts[0]: parts[1]], hostNetwork: hostNetwork, hostIPC: hostIPC)
        result[parts[0]] = parts[1]
      } catch {
        logger.warning("Skipping default_sysctls entry for this pod", metadata: ["sysctl": "\(entry)", "reason": "\(error.rpcErrorMessage)"])
      }
    }
    return result
  }

  static func validate(_ sysctls: [String: String], hostNetwork: Bool, hostIPC: Bool) throws(CRIError) -> [(key: String, value: String)] {
    var result: [(key: String, value: String)] = []
    for key in sysctls.keys.sorted() {
      let value = sysctls[key]!
      let isNetwork = key.hasPrefix("net.")
      let isIPC = ipcKeys.contains(key) || key.hasPrefix("fs.mqueue.")
      guard isNetwork || isIPC else {
        throw .invalidArgument("sysctl \"\(key)\" is not namespaced to the pod and cannot be set by it (allowed: net.*, fs.mqueue.*, \(ipcKeys.sorted().joined(separator: ", ")))")
      }
      if isNetwork && hostNetwork {
        throw .invalidArgument("sysctl \"\(key)\" cannot be set on a pod that uses the host's network")
      }
      if isIPC && hostIPC {
        throw .invalidArgument("sysctl \"\(key)\" cannot be set on a pod that uses the host's IPC namespace")
      }
      let keyIsPlain = key.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { part in
        !part.isEmpty && part != ".." && part.unicodeScalars.allSatisfy {
          ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-"
        }
      }
      let valueIsPlain = !value.isEmpty && value.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7f && $0 != "+" && $0 != "=" }
      guard keyIsPlain, valueIsPlain else {
        throw .invalidArgument("sysctl \(key)=\(value) is malformed: keys are dotted words, values plain text without \"+\", \"=\" or control characters")
      }
      result.append((key, value))
    }
    return result
  }
}
