#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// Calls Swift's Glibc module does not bring in: <sys/xattr.h> is not part of
// it, and makedev is a macro. The xattr calls are looked up once in libc
// itself (dlsym), which keeps the C ABI exact without a C target of our own.

/// glibc's dev_t encoding of a device number (<bits/sysmacros.h>).
func makedev(_ major: UInt32, _ minor: UInt32) -> dev_t {
  let major = UInt64(major)
  let minor = UInt64(minor)
  let high = ((major & 0xffff_f000) << 32) | ((minor & 0xffff_ff00) << 12)
  let low = ((major & 0x0000_0fff) << 8) | (minor & 0x0000_00ff)
  return dev_t(high | low)
}

private typealias SetXattrByDescriptor = @convention(c) (Int32, UnsafePointer<CChar>, UnsafeRawPointer?, Int, Int32) -> Int32
private typealias SetXattrByPath = @convention(c) (UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafeRawPointer?, Int, Int32) -> Int32

private func libcSymbol<T>(_ name: String, as type: T.Type) -> T? {
  guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else { return nil }
  return unsafeBitCast(symbol, to: type)
}

private let fsetxattrCall = libcSymbol("fsetxattr", as: SetXattrByDescriptor.self)
private let lsetxattrCall = libcSymbol("lsetxattr", as: SetXattrByPath.self)

/// fsetxattr(2); -1 with ENOSYS if libc lacks it.
func fsetxattr(_ fd: Int32, _ name: UnsafePointer<CChar>, _ value: UnsafeRawPointer?, _ size: Int, _ flags: Int32) -> Int32 {
  guard let call = fsetxattrCall else {
    errno = ENOSYS
    return -1
  }
  return call(fd, name, value, size, flags)
}

/// lsetxattr(2): sets an xattr on the path's last component itself, never
/// following it.
func lsetxattr(_ path: UnsafePointer<CChar>, _ name: UnsafePointer<CChar>, _ value: UnsafeRawPointer?, _ size: Int, _ flags: Int32) -> Int32 {
  guard let call = lsetxattrCall else {
    errno = ENOSYS
    return -1
  }
  return call(path, name, value, size, flags)
}
