import CRIAPI
import Support

#if canImport(Glibc)
import Glibc
#endif

/// The files a pod's containers mount: /etc/hostname, /etc/hosts,
/// /etc/resolv.conf, and a tmpfs for /dev/shm.
enum PodFiles {
  /// 64 MiB, CRI-O's default shm_size.
  static let shmSize = "65536k"

  static func resolvConf(_ dns: Runtime_V1_DNSConfig?, host: String = "/etc/resolv.conf") -> String {
    guard let dns, !(dns.servers.isEmpty && dns.searches.isEmpty && dns.options.isEmpty) else {
      return (try? Files.read(host)) ?? ""
    }
    var lines: [String] = []
    if !dns.searches.isEmpty { lines.append("search " + dns.searches.joined(separator: " ")) }
    lines += dns.servers.map { "nameserver " + $0 }
    if !dns.options.isEmpty { lines.append("options " + dns.options.joined(separator: " ")) }
    return lines.joined(separator: "\n") + "\n"
  }

  static func hosts(hostname: String) -> String {
    """
    127.0.0.1\tlocalhost
    ::1\tlocalhost ip6-localhost ip6-loopback
    fe00::0\tip6-localnet
    ff00::0\tip6-mcastprefix
    ff02::1\tip6-allnodes
    ff02::2\tip6-allrouters
    127.0.1.1\t\(hostname)

    """
  }

  /// Checks what kubelet sent before anything is created from it.
  static func validate(_ config: Runtime_V1_PodSandboxConfig) throws(CRIError) {
    let metadata = config.metadata
    guard config.hasMetadata, !metadata.name.isEmpty, !metadata.namespace.isEmpty, !metadata.uid.isEmpty else {
      throw .invalidArgument("the pod sandbox config needs metadata with name, namespace and uid")
    }
    for (field, value) in [("name", metadata.name), ("namespace", metadata.namespace), ("uid", metadata.uid)]
    where value.contains("/") || value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) {
      throw .invalidArgument("pod metadata \(field) \(Quoting.doubleQuoted(value)) may not contain \"/\" or control characters")
    }
    if !config.hostname.isEmpty {
      let valid = config.hostname.utf8.count <= 253 && config.hostname.unicodeScalars.allSatisfy {
        ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "."
      }
      guard valid else { throw .invalidArgument("hostname \(Quoting.doubleQuoted(config.hostname)) is not a valid host name") }
    }
    if !config.logDirectory.isEmpty {
      // Created by the daemon as root: it must name the place it seems to.
      let components = config.logDirectory.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
      guard config.logDirectory.hasPrefix("/"), !components.contains(".."), !components.contains("."),
        !config.logDirectory.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f })
      else {
        throw .invalidArgument(
          "log_directory \(Quoting.doubleQuoted(config.logDirectory)) must be an absolute path without \".\" or \"..\" components")
      }
    }
    for value in config.dnsConfig.servers + config.dnsConfig.searches + config.dnsConfig.options
    where value.contains("\n") || value.contains("\r") || value.contains("\0") {
      throw .invalidArgument("DNS config entry \(Quoting.doubleQuoted(value)) contains a line break")
    }
  }

  /// Mounts the pod's /dev/shm tmpfs.
  static func mountShm(at path: String) throws(CRIError) {
    do {
      try Files.makeDirectories(path, mode: 0o755)
    } catch {
      throw .internal("cannot create \(path): \(error.reason)")
    }
    let flags = UInt(MS_NOSUID | MS_NODEV | MS_NOEXEC)
    guard mount("shm", path, "tmpfs", flags, "mode=1777,size=\(shmSize)") == 0 else {
      throw .internal("cannot mount the pod's shm tmpfs on \(path): \(SystemError("mount").reason)")
    }
  }

  static func unmount(_ path: String) {
    umount2(path, Int32(MNT_DETACH))
  }
}
