#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Matching a registry host against CRI-O's `insecure_registries` entries,
/// which are host names (with or without port) or CIDR ranges.
enum HostPattern {
  static func matches(host: String, pattern: String) -> Bool {
    if host == pattern { return true }
    let bare = stripPort(host)
    if bare == pattern { return true }
    if let slash = pattern.firstIndex(of: "/"), let bits = Int(pattern[pattern.index(after: slash)...]) {
      return addressIn(String(bare), network: String(pattern[..<slash]), prefixBits: bits)
    }
    return false
  }

  /// `host:port` -> `host`, `[::1]:5000` -> `::1`.
  static func stripPort(_ host: String) -> Substring {
    if host.hasPrefix("["), let close = host.firstIndex(of: "]") {
      return host[host.index(after: host.startIndex)..<close]
    }
    if let colon = host.lastIndex(of: ":"), host.firstIndex(of: ":") == colon {
      return host[..<colon]
    }
    return Substring(host)
  }

  private static func addressIn(_ address: String, network: String, prefixBits: Int) -> Bool {
    guard let addressBytes = parseIP(address), let networkBytes = parseIP(network),
      addressBytes.count == networkBytes.count, (0...addressBytes.count * 8).contains(prefixBits)
    else { return false }
    for bit in 0..<prefixBits {
      let mask = UInt8(0x80) >> UInt8(bit % 8)
      if addressBytes[bit / 8] & mask != networkBytes[bit / 8] & mask { return false }
    }
    return true
  }

  /// The address's bytes (4 or 16), or nil when it is not an IP literal.
  static func parseIP(_ text: String) -> [UInt8]? {
    var v4 = in_addr()
    if inet_pton(AF_INET, text, &v4) == 1 {
      return withUnsafeBytes(of: &v4) { Array($0) }
    }
    var v6 = in6_addr()
    if inet_pton(AF_INET6, text, &v6) == 1 {
      return withUnsafeBytes(of: &v6) { Array($0) }
    }
    return nil
  }
}
