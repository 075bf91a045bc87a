#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// makedev is a macro, which Swift cannot call; the xattr calls Swift's Glibc
// module leaves out come from the CSupport target's <sys/xattr.h>.

/// glibc's dev_t encoding of a device number (<bits/sysmacros.h>).
func makedev(_ major: UInt32, _ minor: UInt32) -> dev_t {
  let major = UInt64(major)
  let minor = UInt64(minor)
  let high = ((major & 0xffff_f000) << 32) | ((minor & 0xffff_ff00) << 12)
  let low = ((major & 0x0000_0fff) << 8) | (minor & 0x0000_00ff)
  return dev_t(high | low)
}
