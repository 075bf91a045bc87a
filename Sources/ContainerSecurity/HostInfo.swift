#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Small facts read from the kernel.
enum HostInfo {
  /// uname(2)'s machine ("x86_64") and release ("6.18.44-…").
  static var uname: (machine: String, release: String)? {
    var names = utsname()
    #if canImport(Glibc)
    guard Glibc.uname(&names) == 0 else { return nil }
    #else
    guard Musl.uname(&names) == 0 else { return nil }
    #endif
    func text<T>(_ field: T) -> String {
      withUnsafeBytes(of: field) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
    }
    return (text(names.machine), text(names.release))
  }

  /// lstat or stat of `path`; nil with errno set when it fails.
  static func status(_ path: String, followLinks: Bool) -> stat? {
    var info = stat()
    let result = followLinks ? stat(path, &info) : lstat(path, &info)
    return result == 0 ? info : nil
  }

  static func exists(_ path: String) -> Bool {
    access(path, F_OK) == 0
  }
}
