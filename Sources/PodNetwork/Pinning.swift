import CSupport
import Support

#if canImport(Glibc)
import Glibc
#endif

/// The pinning itself, run by the short-lived `crio pinns` helper process:
/// it leaves the daemon's namespaces (unshare), configures the new ones and
/// bind-mounts them onto files, then exits; the mounts keep them alive.
/// Done in a separate process because unshare changes the calling thread,
/// which must not be one of the daemon's.
public enum Pinning {
  public static func pinInThisProcess(_ request: PinRequest) throws(NamespaceError) -> PinnedNamespaces {
    var created: [String] = []
    var mounted: [String] = []
    func undo() {
      for path in mounted { umount2(path, Int32(MNT_DETACH)) }
      for path in created { unlink(path) }
    }
    do throws(NamespaceError) {
      for kind in request.kinds {
        let path = request.path(of: kind)
        let parent = String(path[..<path.lastIndex(of: "/")!])
        do {
          try Files.makeDirectories(parent, mode: 0o755)
        } catch {
          throw NamespaceError("cannot create \(parent): \(error.reason)")
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o400)
        guard fd >= 0 else {
          throw NamespaceError("cannot create \(path): \(SystemError("open").reason)")
        }
        close(fd)
        created.append(path)
      }
      let flags = request.kinds.reduce(Int32(0)) { $0 | $1.cloneFlag }
      guard crio_unshare(flags) == 0 else {
        throw NamespaceError("unshare(\(request.kinds.map(\.rawValue).joined(separator: ","))): \(SystemError("unshare").reason)")
      }
      if let hostname = request.hostname, request.kinds.contains(.uts) {
        let bytes = Array(hostname.utf8)
        guard bytes.withUnsafeBufferPointer({ $0.withMemoryRebound(to: CChar.self) { crio_sethostname($0.baseAddress, $0.count) } }) == 0 else {
          throw NamespaceError("cannot set hostname \"\(hostname)\": \(SystemError("sethostname").reason)")
        }
      }
      if request.kinds.contains(.network) {
        // Pods without CNI still talk to themselves over localhost.
        guard crio_loopback_up() == 0 else {
          throw NamespaceError("cannot bring up lo in the new network namespace: \(SystemError("ioctl").reason)")
        }
      }
      for (key, value) in request.sysctls {
        try apply(sysctl: key, value: value)
      }
      for kind in request.kinds {
        let path = request.path(of: kind)
        guard mount("/proc/thread-self/ns/\(kind.rawValue)", path, nil, UInt(MS_BIND), nil) == 0 else {
          throw NamespaceError("cannot pin the \(kind.rawValue) namespace on \(path): \(SystemError("mount").reason)")
        }
        mounted.append(path)
      }
      guard request.sharedPID else { return request.pinned }
      let pid = crio_start_pid_namespace_init()
      guard pid > 0 else {
        throw NamespaceError("cannot start the pod's PID namespace: \(SystemError("fork").reason)")
      }
      guard let namespace = PIDNamespaceInit.namespaceName("/proc/\(pid)/ns/pid") else {
        kill(pid, SIGKILL)
        throw NamespaceError("the pod's PID namespace init (\(pid)) ended at once")
      }
      var pinned = request.pinned
      pinned.pidInit = PIDNamespaceInit(pid: pid, namespace: namespace)
      return pinned
    } catch {
      undo()
      throw error
    }
  }

  /// Writes /proc/sys/<key with dots as slashes>; the new namespaces are the
  /// calling thread's, so namespaced keys land in them.
  private static func apply(sysctl key: String, value: String) throws(NamespaceError) {
    guard !key.isEmpty, !key.contains("/"), !key.split(separator: ".").contains(".."),
      key.unicodeScalars.allSatisfy({ $0.properties.isAlphabetic || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0) }),
      !value.contains("\n"), !value.contains("\0")
    else {
      throw NamespaceError("invalid sysctl \(Quoting.doubleQuoted(key))=\(Quoting.doubleQuoted(value))")
    }
    let path = "/proc/sys/" + key.split(separator: ".").joined(separator: "/")
    let fd = open(path, O_WRONLY | O_CLOEXEC)
    guard fd >= 0 else {
      throw NamespaceError("sysctl \(key): \(SystemError("open").reason)")
    }
    defer { close(fd) }
    do {
      try Files.writeAll(fd, Array(value.utf8))
    } catch {
      throw NamespaceError("sysctl \(key)=\(value): \(error.reason)")
    }
  }
}
