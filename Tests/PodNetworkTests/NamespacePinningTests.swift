#if canImport(Glibc)
import Glibc
#endif
import CRIClient
import PodNetwork
import Support
import Testing

/// Pins real namespaces with the `crio pinns` helper (the daemon binary) and
/// looks at them from the host, as runc and CNI plugins will use them.
@Suite struct NamespacePinningTests {
  func withPinDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let dir = try Files.makeTemporaryDirectory(prefix: "crio-ns")
    defer {
      for kind in ["netns", "ipcns", "utsns"] {
        for name in (try? Files.list(dir + "/" + kind)) ?? [] { umount2(dir + "/\(kind)/\(name)", Int32(MNT_DETACH)) }
      }
      Files.removeTree(dir)
    }
    return try await body(dir)
  }

  /// True when `path` is a mount point of the namespace file system
  /// (mountinfo: "... <mount point> ... - nsfs nsfs ...").
  func isNamespaceMount(_ path: String) -> Bool {
    MountInfoEntry.current().contains { $0.mountPoint == path && $0.filesystemType == "nsfs" }
  }

  func inode(_ path: String) -> ino_t {
    var info = stat()
    return stat(path, &info) == 0 ? info.st_ino : 0
  }

  func mounted(_ path: String) -> Bool {
    MountInfoEntry.current().contains { $0.mountPoint == path }
  }

  @Test func pinsNetworkIPCAndUTSNamespaces() async throws {
    try await withPinDirectory { dir in
      let pinner = NamespacePinner(helper: CrioBinary.path)
      let hostPortStart = try Files.read("/proc/sys/net/ipv4/ip_unprivileged_port_start")
      let pinned = try await pinner.pin(PinRequest(
        name: "pod1", directory: dir, kinds: [.network, .ipc, .uts], hostname: "web-0",
        sysctls: [(key: "net.ipv4.ip_unprivileged_port_start", value: "80")]))
      #expect(pinned.network == dir + "/netns/pod1")
      for path in pinned.paths {
        #expect(isNamespaceMount(path), "\(path) is a namespace")
      }
      #expect(inode(pinned.network!) != inode("/proc/self/ns/net"), "a new network namespace, not the host's")
      #expect(inode(pinned.ipc!) != inode("/proc/self/ns/ipc"))

      let hostname = try await Processes.run("/usr/bin/nsenter", ["--uts=\(pinned.uts!)", "/bin/hostname"])
      #expect(hostname.stdout == "web-0\n")
      let links = try await Processes.run("/usr/bin/nsenter", ["--net=\(pinned.network!)", "/usr/sbin/ip", "-o", "link"])
      #expect(links.status == 0)
      #expect(links.stdout.split(separator: "\n").count == 1, "only lo: \(links.stdout)")
      #expect(links.stdout.contains("lo:") && links.stdout.contains("UP"), "lo is up: \(links.stdout)")
      let sysctl = try await Processes.run("/usr/bin/nsenter", ["--net=\(pinned.network!)", "/bin/cat", "/proc/sys/net/ipv4/ip_unprivileged_port_start"])
      #expect(sysctl.stdout == "80\n", "the sysctl applies inside the pod")
      #expect(try Files.read("/proc/sys/net/ipv4/ip_unprivileged_port_start") == hostPortStart, "the host's value is untouched")

      try NamespacePinner.unpin(pinned)
      for path in pinned.paths {
        #expect(!mounted(path), "\(path) unmounted")
        #expect(access(path, F_OK) != 0, "\(path) removed")
      }
      // Unpinning again (after a crash, say) is fine.
      try NamespacePinner.unpin(pinned)
    }
  }

  @Test func aSecondPinOfTheSameNameFailsAndKeepsTheFirst() async throws {
    try await withPinDirectory { dir in
      let pinner = NamespacePinner(helper: CrioBinary.path)
      let first = try await pinner.pin(PinRequest(name: "pod", directory: dir, kinds: [.network]))
      await #expect(throws: NamespaceError.self) {
        _ = try await pinner.pin(PinRequest(name: "pod", directory: dir, kinds: [.network]))
      }
      #expect(isNamespaceMount(first.network!))
      try NamespacePinner.unpin(first)
    }
  }

  @Test(arguments: ["net.nonexistent.key", "../../etc/x", "kernel.hostname\nx"])
  func aBadSysctlLeavesNothingBehind(key: String) async throws {
    try await withPinDirectory { dir in
      let pinner = NamespacePinner(helper: CrioBinary.path)
      do {
        _ = try await pinner.pin(PinRequest(name: "bad", directory: dir, kinds: [.network, .ipc, .uts], sysctls: [(key: key, value: "1")]))
        Issue.record("pinning with sysctl \(key) succeeded")
      } catch let error as NamespaceError {
        #expect(error.description.contains("sysctl"), "\(error)")
      }
      for kind in ["netns", "ipcns", "utsns"] {
        #expect(((try? Files.list(dir + "/" + kind)) ?? []).isEmpty, "\(kind) left behind")
        #expect(!mounted(dir + "/\(kind)/bad"))
      }
    }
  }
}
