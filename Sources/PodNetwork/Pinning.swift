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
      var pinnedKinds = request.kinds.map { ($0.rawValue, request.path(of: $0)) }
      if request.userNamespace != nil { pinnedKinds.insert(("user", request.userNamespacePath), at: 0) }
      for (_, path) in pinnedKinds {
        try createPinFile(path)
        created.append(path)
      }
      let flags = request.kinds.reduce(Int32(0)) { $0 | $1.cloneFlag }
      if let mappings = request.userNamespace {
        // The other namespaces are made inside the user namespace, so that
        // they belong to it: the pod's root may then configure them, and
        // runc, which joins the user namespace first, may still join them.
        let child = try UserNamespaceChild()
        defer { child.finish() }
        try mappings.write(toProcess: child.pid)
        try child.unshare(flags: flags)
        for (name, path) in pinnedKinds {
          try bind("/proc/\(child.pid)/ns/\(name)", on: path)
          mounted.append(path)
        }
        // This thread enters them to configure them (it is privileged in
        // every user namespace below the host's).
        for kind in request.kinds { try enter(request.path(of: kind), kind: kind) }
      } else {
        guard crio_unshare(flags) == 0 else {
          throw NamespaceError("unshare(\(request.kinds.map(\.rawValue).joined(separator: ","))): \(SystemError("unshare").reason)")
        }
        for (name, path) in pinnedKinds {
          try bind("/proc/thread-self/ns/\(name)", on: path)
          mounted.append(path)
        }
      }
      try configure(request)
      return request.pinned
    } catch {
      undo()
      throw error
    }
  }

  private static func createPinFile(_ path: String) throws(NamespaceError) {
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
  }

  private static func bind(_ namespace: String, on path: String) throws(NamespaceError) {
    guard mount(namespace, path, nil, UInt(MS_BIND), nil) == 0 else {
      throw NamespaceError("cannot pin the namespace \(namespace) on \(path): \(SystemError("mount").reason)")
    }
  }

  private static func enter(_ path: String, kind: PinRequest.Kind) throws(NamespaceError) {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw NamespaceError("cannot open \(path): \(SystemError("open").reason)") }
    defer { close(fd) }
    guard crio_setns(fd, kind.cloneFlag) == 0 else {
      throw NamespaceError("cannot enter the pod's \(kind.rawValue) namespace: \(SystemError("setns").reason)")
    }
  }

  /// Hostname, loopback and sysctls, in the namespaces the calling thread is in.
  private static func configure(_ request: PinRequest) throws(NamespaceError) {
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
      do {
        try apply(sysctl: key, value: value)
      } catch let error where error.code == EACCES {
        // IPC sysctls of a namespace that belongs to a user namespace are
        // writable by that namespace's root uid alone, not by capabilities
        // (net ones the other way round): this thread takes that uid
        // while it writes one.
        guard let owner = request.userNamespace?.hostRootUID, owner != 0 else { throw error }
        guard crio_thread_set_effective_uid(owner) == 0 else {
          throw NamespaceError("cannot act as the pod's root (uid \(owner)) to set sysctl \(key): \(SystemError("setresuid").reason)")
        }
        defer { _ = crio_thread_set_effective_uid(0) }
        try apply(sysctl: key, value: value)
      }
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
      let code = errno
      throw NamespaceError("sysctl \(key): \(SystemError("open").reason)", code: code)
    }
    defer { close(fd) }
    do {
      try Files.writeAll(fd, Array(value.utf8))
    } catch {
      throw NamespaceError("sysctl \(key)=\(value): \(error.reason)")
    }
  }
}
