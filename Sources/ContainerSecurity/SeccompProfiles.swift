import FoundationEssentials
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import OCI
import Support

/// Why a seccomp profile file could not be used. Every message names the file.
public enum SeccompProfileError: Error, Sendable, Equatable, CustomStringConvertible {
  case notFound(path: String)
  case unreadable(path: String, reason: String)
  case invalid(path: String, reason: String)
  /// A CRI seccomp request this daemon cannot honour.
  case unsupportedRequest(String)

  public var description: String {
    switch self {
    case .notFound(let path): "seccomp profile \(path) does not exist"
    case .unreadable(let path, let reason): "cannot read seccomp profile \(path): \(reason)"
    case .invalid(let path, let reason): "invalid seccomp profile \(path): \(reason)"
    case .unsupportedRequest(let reason): reason
    }
  }
}

/// The profiles a container can run with.
public enum SeccompProfiles {
  /// The runtime default profile (moby's `default.json`, which CRI-O's
  /// containers/common default follows) for a container whose bounding set
  /// is `capabilities`: everything not allowed fails with EPERM.
  public static func runtimeDefault(
    architecture: SeccompArchitecture = .host, capabilities: [String], kernel: KernelVersion? = .current
  ) -> Spec.Seccomp {
    SeccompProfile.runtimeDefaultTemplate.resolve(
      architecture: architecture, capabilities: capabilities, kernel: kernel)
  }

  /// Reads a Docker / containers-common format profile (a localhost profile).
  public static func load(path: String) throws(SeccompProfileError) -> SeccompProfile {
    let bytes: [UInt8]
    do {
      bytes = try Files.readBytes(path)
    } catch {
      if error.code == ENOENT { throw .notFound(path: path) }
      throw .unreadable(path: path, reason: error.reason)
    }
    return try parse(bytes, source: path)
  }

  /// `load(path:)` then `resolve` for one container.
  public static func load(
    path: String, architecture: SeccompArchitecture = .host, capabilities: [String],
    kernel: KernelVersion? = .current
  ) throws(SeccompProfileError) -> Spec.Seccomp {
    try load(path: path).resolve(architecture: architecture, capabilities: capabilities, kernel: kernel)
  }

  /// Parses profile JSON; `source` names it in errors (a path, an annotation…).
  public static func parse(_ bytes: [UInt8], source: String) throws(SeccompProfileError) -> SeccompProfile {
    let raw: RawProfile
    do {
      raw = try JSONDecoder().decode(RawProfile.self, from: Data(bytes))
    } catch let error as DecodingError {
      throw .invalid(path: source, reason: describe(error))
    } catch {
      throw .invalid(path: source, reason: "\(error)")
    }
    do {
      return try raw.validated()
    } catch let reason {
      throw .invalid(path: source, reason: reason.text)
    }
  }

  /// What the CRI asks for: `SecurityProfile` (type + localhost_ref) or the
  /// deprecated string field ("runtime/default", "docker/default",
  /// "unconfined", "localhost/<absolute path>", "" = unconfined).
  public enum Request: Sendable, Hashable {
    case unconfined
    case runtimeDefault
    /// An absolute path on the host.
    case localhost(String)

    public init(parsing text: String) throws(SeccompProfileError) {
      switch text {
      case "", "unconfined": self = .unconfined
      case "runtime/default", "docker/default": self = .runtimeDefault
      default:
        guard text.hasPrefix("localhost/") else {
          throw .unsupportedRequest(
            "unknown seccomp profile \(String(reflecting: text)): expected \"runtime/default\", \"unconfined\" or \"localhost/<path>\"")
        }
        let path = String(text.dropFirst("localhost/".count))
        self = .localhost(path.hasPrefix("/") ? path : "/" + path)
      }
    }
  }

  /// The `linux.seccomp` of a container: nil for unconfined.
  public static func profile(
    for request: Request, architecture: SeccompArchitecture = .host, capabilities: [String],
    kernel: KernelVersion? = .current
  ) throws(SeccompProfileError) -> Spec.Seccomp? {
    switch request {
    case .unconfined:
      return nil
    case .runtimeDefault:
      return runtimeDefault(architecture: architecture, capabilities: capabilities, kernel: kernel)
    case .localhost(let path):
      guard path.hasPrefix("/"), !path.split(separator: "/").contains("..") else {
        throw .unsupportedRequest("seccomp localhost profile \(String(reflecting: path)) must be an absolute path without \"..\"")
      }
      return try load(path: path, architecture: architecture, capabilities: capabilities, kernel: kernel)
    }
  }

  // MARK: - Decoding

  static func describe(_ error: DecodingError) -> String {
    func path(_ context: DecodingError.Context, appending key: CodingKey? = nil) -> String {
      var keys = context.codingPath
      if let key { keys.append(key) }
      guard !keys.isEmpty else { return "the document" }
      var out = ""
      for key in keys {
        if let index = key.intValue {
          out += "[\(index)]"
        } else {
          out += out.isEmpty ? key.stringValue : "." + key.stringValue
        }
      }
      return out
    }
    switch error {
    case .dataCorrupted(let context):
      if context.codingPath.isEmpty {
        // Foundation gives no position; its own words add nothing then.
        var text = "not valid JSON"
        if let underlying = context.underlyingError {
          text += " (\(underlying))"
        } else if !context.debugDescription.isEmpty && context.debugDescription != "The given data was not valid JSON." {
          text += " (\(context.debugDescription))"
        }
        return text
      }
      return "\(path(context)): \(context.debugDescription)"
    case .keyNotFound(let key, let context):
      return "\(path(context, appending: key)) is missing"
    case .typeMismatch(let type, let context):
      return "\(path(context)) has the wrong type (expected \(typeName(type)))"
    case .valueNotFound(let type, let context):
      return "\(path(context)) is null (expected \(typeName(type)))"
    @unknown default:
      return "\(error)"
    }
  }

  private static func typeName(_ type: Any.Type) -> String {
    switch type {
    case is String.Type: "a string"
    case is UInt32.Type, is UInt64.Type, is UInt.Type, is Int.Type: "a non-negative integer"
    case is [String].Type: "an array of strings"
    default:
      String(describing: type).hasPrefix("Array") ? "an array" : "an object"
    }
  }
}

extension KeyedDecodingContainer {
  /// Foundation reports a negative number for an unsigned field as invalid
  /// JSON without a location; this names the field instead.
  func decodeUnsigned<T: Decodable & FixedWidthInteger & UnsignedInteger>(_ type: T.Type, forKey key: Key) throws -> T {
    guard let value = try decodeUnsignedIfPresent(type, forKey: key) else {
      throw DecodingError.keyNotFound(
        key, DecodingError.Context(codingPath: codingPath, debugDescription: "missing \(key.stringValue)"))
    }
    return value
  }

  func decodeUnsignedIfPresent<T: Decodable & FixedWidthInteger & UnsignedInteger>(
    _ type: T.Type, forKey key: Key
  ) throws -> T? {
    if let value = try? decodeIfPresent(T.self, forKey: key) { return value }
    if let signed = try? decodeIfPresent(Int64.self, forKey: key) {
      throw DecodingError.dataCorruptedError(
        forKey: key, in: self, debugDescription: "\(signed) is out of range (0...\(T.max))")
    }
    return try decodeIfPresent(T.self, forKey: key)
  }
}

struct ProfileProblem: Error {
  var text: String
  init(_ text: String) { self.text = text }
}

// The file's shape, as Go's encoding/json reads it: unknown keys ignored,
// null like absent.
struct RawProfile: Decodable {
  var defaultAction: String?
  // Signed here so that a negative number is reported with its place.
  var defaultErrnoRet: Int64?
  var defaultErrno: String?
  var architectures: [String]?
  var archMap: [RawArchitecture]?
  var syscalls: [RawSyscall]?
  var flags: [String]?
  var listenerPath: String?

  struct RawArchitecture: Decodable {
    var architecture: String
    var subArchitectures: [String]?
  }

  struct RawSyscall: Decodable {
    var name: String?
    var names: [String]?
    var action: String
    var args: [RawArg?]?
    var errnoRet: Int64?
    var errno: String?
    var includes: RawFilter?
    var excludes: RawFilter?
  }

  struct RawArg: Decodable {
    var index: UInt
    var value: UInt64
    var valueTwo: UInt64?
    var op: String

    enum CodingKeys: String, CodingKey { case index, value, valueTwo, op }

    init(from decoder: any Decoder) throws {
      let container = try decoder.container(keyedBy: CodingKeys.self)
      index = try container.decodeUnsigned(UInt.self, forKey: .index)
      value = try container.decodeUnsigned(UInt64.self, forKey: .value)
      valueTwo = try container.decodeUnsignedIfPresent(UInt64.self, forKey: .valueTwo)
      op = try container.decode(String.self, forKey: .op)
    }
  }

  struct RawFilter: Decodable {
    var caps: [String]?
    var arches: [String]?
    var minKernel: String?
  }

  static let operators: Set<String> = [
    "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",
    "SCMP_CMP_MASKED_EQ",
  ]

  static let architectureNames: Set<String> = [
    "SCMP_ARCH_NATIVE", "SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM",
    "SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL",
    "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64", "SCMP_ARCH_PPC64LE",
    "SCMP_ARCH_S390", "SCMP_ARCH_S390X", "SCMP_ARCH_PARISC", "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",
    "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K", "SCMP_ARCH_SH", "SCMP_ARCH_SHEB",
  ]

  static let filterFlags: Set<String> = [
    "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
  ]

  func validated() throws(ProfileProblem) -> SeccompProfile {
    guard let defaultAction, !defaultAction.isEmpty else { throw ProfileProblem("defaultAction is missing") }
    let action = try Self.action(defaultAction, at: "defaultAction")
    if listenerPath.map({ !$0.isEmpty }) == true {
      throw ProfileProblem("listenerPath (seccomp notify) is not supported")
    }
    let errnoRet = try Self.errno(number: defaultErrnoRet, name: defaultErrno, at: "defaultErrno")

    let architectures = architectures ?? []
    let archMap = archMap ?? []
    if !architectures.isEmpty && !archMap.isEmpty {
      throw ProfileProblem("both \"architectures\" and \"archMap\" are given; use one of them")
    }
    for (index, name) in architectures.enumerated() where !Self.architectureNames.contains(name) {
      throw ProfileProblem("architectures[\(index)]: unknown architecture \(String(reflecting: name))")
    }
    var mappings: [SeccompProfile.ArchitectureMapping] = []
    for (index, entry) in archMap.enumerated() {
      for name in [entry.architecture] + (entry.subArchitectures ?? []) where !Self.architectureNames.contains(name) {
        throw ProfileProblem("archMap[\(index)]: unknown architecture \(String(reflecting: name))")
      }
      mappings.append(.init(architecture: entry.architecture, subArchitectures: entry.subArchitectures ?? []))
    }
    for (index, flag) in (flags ?? []).enumerated() where !Self.filterFlags.contains(flag) {
      throw ProfileProblem("flags[\(index)]: unknown flag \(String(reflecting: flag))")
    }

    var rules: [SeccompProfile.SyscallRule] = []
    for (index, call) in (syscalls ?? []).enumerated() {
      let at = "syscalls[\(index)]"
      var names = call.names ?? []
      if let name = call.name, !name.isEmpty {
        guard names.isEmpty else { throw ProfileProblem("\(at): both \"name\" and \"names\" are given; use one of them") }
        names = [name]
      }
      guard !names.isEmpty else { throw ProfileProblem("\(at): no syscall names") }
      for name in names where name.isEmpty || !name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) {
        throw ProfileProblem("\(at): invalid syscall name \(String(reflecting: name))")
      }
      let ruleAction = try Self.action(call.action, at: "\(at).action")
      var args: [Spec.SyscallArg] = []
      for (argIndex, arg) in (call.args ?? []).enumerated() {
        guard let arg else { continue }
        guard Self.operators.contains(arg.op) else {
          throw ProfileProblem("\(at).args[\(argIndex)]: unknown operator \(String(reflecting: arg.op))")
        }
        guard arg.index < 6 else {
          throw ProfileProblem("\(at).args[\(argIndex)]: index \(arg.index) is not a syscall argument (0...5)")
        }
        args.append(
          Spec.SyscallArg(index: arg.index, value: arg.value, valueTwo: arg.valueTwo == 0 ? nil : arg.valueTwo, op: arg.op))
      }
      rules.append(
        SeccompProfile.SyscallRule(
          names: names, action: ruleAction,
          errnoRet: try Self.errno(number: call.errnoRet, name: call.errno, at: "\(at).errno"), args: args,
          includes: try Self.filter(call.includes, at: "\(at).includes"),
          excludes: try Self.filter(call.excludes, at: "\(at).excludes")))
    }
    return SeccompProfile(
      defaultAction: action, defaultErrnoRet: errnoRet, architectures: architectures, archMap: mappings,
      flags: flags ?? [], syscalls: rules)
  }

  static func action(_ text: String, at: String) throws(ProfileProblem) -> SeccompAction {
    let action = SeccompAction(rawValue: text)
    if action == .notify { throw ProfileProblem("\(at): SCMP_ACT_NOTIFY (seccomp notify) is not supported") }
    guard SeccompAction.supported.contains(action) else {
      throw ProfileProblem("\(at): unknown action \(String(reflecting: text))")
    }
    return action
  }

  /// `errnoRet` (a number) wins over `errno` (a name such as "EPERM"), as in containers/common.
  static func errno(number: Int64?, name: String?, at: String) throws(ProfileProblem) -> UInt32? {
    if let number {
      guard let value = UInt32(exactly: number) else {
        throw ProfileProblem("\(at)Ret: \(number) is out of range (0...\(UInt32.max))")
      }
      return value
    }
    guard let name, !name.isEmpty else { return nil }
    guard let value = ErrnoNames.value(of: name) else {
      throw ProfileProblem("\(at): unknown errno name \(String(reflecting: name))")
    }
    return value
  }

  static func filter(_ raw: RawFilter?, at: String) throws(ProfileProblem) -> SeccompProfile.RuleFilter {
    guard let raw else { return SeccompProfile.RuleFilter() }
    var minKernel: KernelVersion?
    if let text = raw.minKernel, !text.isEmpty {
      let parts = text.split(separator: ".", omittingEmptySubsequences: false)
      guard parts.count == 2, let k = UInt(parts[0]), let m = UInt(parts[1]), k > 0 || m > 0 else {
        throw ProfileProblem("\(at).minKernel: \(String(reflecting: text)) is not \"<kernel>.<major>\"")
      }
      minKernel = KernelVersion(kernel: k, major: m)
    }
    return SeccompProfile.RuleFilter(caps: raw.caps ?? [], arches: raw.arches ?? [], minKernel: minKernel)
  }
}

/// Linux errno names and numbers (asm-generic, as on x86-64 and arm64).
enum ErrnoNames {
  static func value(of name: String) -> UInt32? { table[name] }

  static let table: [String: UInt32] = {
    let text = """
      EPERM 1 ENOENT 2 ESRCH 3 EINTR 4 EIO 5 ENXIO 6 E2BIG 7 ENOEXEC 8 EBADF 9 ECHILD 10 EAGAIN 11 \
      EWOULDBLOCK 11 ENOMEM 12 EACCES 13 EFAULT 14 ENOTBLK 15 EBUSY 16 EEXIST 17 EXDEV 18 ENODEV 19 \
      ENOTDIR 20 EISDIR 21 EINVAL 22 ENFILE 23 EMFILE 24 ENOTTY 25 ETXTBSY 26 EFBIG 27 ENOSPC 28 \
      ESPIPE 29 EROFS 30 EMLINK 31 EPIPE 32 EDOM 33 ERANGE 34 EDEADLK 35 EDEADLOCK 35 ENAMETOOLONG 36 \
      ENOLCK 37 ENOSYS 38 ENOTEMPTY 39 ELOOP 40 ENOMSG 42 EIDRM 43 ECHRNG 44 EL2NSYNC 45 EL3HLT 46 \
      EL3RST 47 ELNRNG 48 EUNATCH 49 ENOCSI 50 EL2HLT 51 EBADE 52 EBADR 53 EXFULL 54 ENOANO 55 \
      EBADRQC 56 EBADSLT 57 EBFONT 59 ENOSTR 60 ENODATA 61 ETIME 62 ENOSR 63 ENONET 64 ENOPKG 65 \
      EREMOTE 66 ENOLINK 67 EADV 68 ESRMNT 69 ECOMM 70 EPROTO 71 EMULTIHOP 72 EDOTDOT 73 EBADMSG 74 \
      EOVERFLOW 75 ENOTUNIQ 76 EBADFD 77 EREMCHG 78 ELIBACC 79 ELIBBAD 80 ELIBSCN 81 ELIBMAX 82 \
      ELIBEXEC 83 EILSEQ 84 ERESTART 85 ESTRPIPE 86 EUSERS 87 ENOTSOCK 88 EDESTADDRREQ 89 EMSGSIZE 90 \
      EPROTOTYPE 91 ENOPROTOOPT 92 EPROTONOSUPPORT 93 ESOCKTNOSUPPORT 94 EOPNOTSUPP 95 ENOTSUP 95 \
      EPFNOSUPPORT 96 EAFNOSUPPORT 97 EADDRINUSE 98 EADDRNOTAVAIL 99 ENETDOWN 100 ENETUNREACH 101 \
      ENETRESET 102 ECONNABORTED 103 ECONNRESET 104 ENOBUFS 105 EISCONN 106 ENOTCONN 107 \
      ESHUTDOWN 108 ETOOMANYREFS 109 ETIMEDOUT 110 ECONNREFUSED 111 EHOSTDOWN 112 EHOSTUNREACH 113 \
      EALREADY 114 EINPROGRESS 115 ESTALE 116 EUCLEAN 117 ENOTNAM 118 ENAVAIL 119 EISNAM 120 \
      EREMOTEIO 121 EDQUOT 122 ENOMEDIUM 123 EMEDIUMTYPE 124 ECANCELED 125 ENOKEY 126 \
      EKEYEXPIRED 127 EKEYREVOKED 128 EKEYREJECTED 129 EOWNERDEAD 130 ENOTRECOVERABLE 131 \
      ERFKILL 132 EHWPOISON 133
      """
    let words = text.split(separator: " ")
    var table: [String: UInt32] = [:]
    var index = 0
    while index + 1 < words.count {
      table[String(words[index])] = UInt32(words[index + 1])!
      index += 2
    }
    return table
  }()
}
