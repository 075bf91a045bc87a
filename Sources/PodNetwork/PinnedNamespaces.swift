import CSupport
import Support

#if canImport(Glibc)
import Glibc
#endif

/// A pod's network, IPC and UTS namespaces, kept alive by bind mounts of
/// their /proc entries on files under `namespaces_dir`, so they outlive the
/// process that created them and the daemon (as CRI-O's pinns does). Every
/// container of the pod joins them by path.
public struct PinnedNamespaces: Sendable, Equatable, Codable {
  public var network: String?
  public var ipc: String?
  public var uts: String?
  /// The pod's own user namespace, when it has one (`userns_options` POD);
  /// the other namespaces then belong to it.
  public var user: String?
  /// The init process of the pod's shared PID namespace, when it has one
  /// (a PID namespace cannot be pinned: it dies with its PID 1). It is a
  /// runc container named by the pod's ID (see the Server's PodInitSpec).
  public var pidInit: PIDNamespaceInit?

  public init(
    network: String? = nil, ipc: String? = nil, uts: String? = nil, user: String? = nil, pidInit: PIDNamespaceInit? = nil
  ) {
    self.network = network
    self.ipc = ipc
    self.uts = uts
    self.user = user
    self.pidInit = pidInit
  }

  public var paths: [String] { [network, ipc, uts, user].compactMap { $0 } }
}

/// The PID 1 of a pod's shared PID namespace, and the namespace's identity
/// (`pid:[inode]`), so that a reused PID is never mistaken for it.
public struct PIDNamespaceInit: Sendable, Equatable, Codable {
  public var pid: Int32
  public var namespace: String

  public init(pid: Int32, namespace: String) {
    self.pid = pid
    self.namespace = namespace
  }

  /// `/proc/<pid>/ns/pid` while the init lives; nil once it is gone.
  public var path: String? {
    let path = "/proc/\(pid)/ns/pid"
    return Self.namespaceName(path) == namespace ? path : nil
  }

  public static func namespaceName(_ path: String) -> String? {
    var buffer = [CChar](repeating: 0, count: 64)
    let length = readlink(path, &buffer, buffer.count - 1)
    guard length > 0 else { return nil }
    return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }
}

/// What to pin for one pod.
public struct PinRequest: Sendable, Equatable {
  public enum Kind: String, Sendable, CaseIterable {
    case network = "net", ipc, uts

    var cloneFlag: Int32 {
      switch self {
      case .network: 0x4000_0000
      case .ipc: 0x0800_0000
      case .uts: 0x0400_0000
      }
    }
  }

  /// The file name (the pod's ID) under each `<dir>/<kind>ns/` directory.
  public var name: String
  public var directory: String
  public var kinds: [Kind]
  /// Set in the new UTS namespace.
  public var hostname: String?
  /// Namespaced sysctls applied inside the new namespaces; the caller
  /// validates them (only namespaced keys, no injection).
  public var sysctls: [(key: String, value: String)]
  /// Make the namespaces inside a new user namespace with these mappings.
  public var userNamespace: UserNamespaceMappings?

  public init(
    name: String, directory: String, kinds: [Kind], hostname: String? = nil,
    sysctls: [(key: String, value: String)] = [], userNamespace: UserNamespaceMappings? = nil
  ) {
    self.userNamespace = userNamespace
    self.name = name
    self.directory = directory
    self.kinds = kinds
    self.hostname = hostname
    self.sysctls = sysctls
  }

  public static func == (lhs: PinRequest, rhs: PinRequest) -> Bool {
    lhs.name == rhs.name && lhs.directory == rhs.directory && lhs.kinds == rhs.kinds && lhs.hostname == rhs.hostname
      && lhs.userNamespace == rhs.userNamespace
      && lhs.sysctls.map(\.key) == rhs.sysctls.map(\.key) && lhs.sysctls.map(\.value) == rhs.sysctls.map(\.value)
  }

  func path(of kind: Kind) -> String { "\(directory)/\(kind.rawValue)ns/\(name)" }

  var userNamespacePath: String { "\(directory)/userns/\(name)" }

  /// Where the namespaces are once pinned.
  var pinned: PinnedNamespaces {
    PinnedNamespaces(
      network: kinds.contains(.network) ? path(of: .network) : nil,
      ipc: kinds.contains(.ipc) ? path(of: .ipc) : nil,
      uts: kinds.contains(.uts) ? path(of: .uts) : nil,
      user: userNamespace != nil ? userNamespacePath : nil)
  }
}

public struct NamespaceError: Error, Sendable, Equatable, CustomStringConvertible {
  public let description: String
  /// The errno behind it, when one system call failed.
  public let code: Int32
  public init(_ description: String, code: Int32 = 0) {
    self.description = description
    self.code = code
  }
}
