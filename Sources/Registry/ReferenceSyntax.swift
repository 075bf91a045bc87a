import OCI

/// The grammar of Docker image references (distribution/reference), checked
/// by hand on UTF-8 bytes: regular expressions would pull in Foundation, and
/// Character-by-Character searches cost a daemon start-up parsing the
/// registries.conf aliases a few milliseconds. Every delimiter is ASCII, so
/// a byte index is a valid String index.
enum ReferenceSyntax {
  /// Docker's limit on a repository name, registry included.
  static let maximumNameLength = 255

  /// A reference taken apart but not yet checked: `name[:tag][@digest]`.
  struct Parts {
    var name: Substring
    var tag: Substring?
    var digest: Substring?
  }

  static func split(_ text: String) -> Parts {
    var rest = Substring(text)
    var digest: Substring?
    if let at = rest.utf8.firstIndex(of: UInt8(ascii: "@")) {
      digest = rest[rest.utf8.index(after: at)...]
      rest = rest[..<at]
    }
    // A colon is a tag separator only after the last slash: before it, it
    // separates a registry host from its port.
    var tag: Substring?
    if let colon = rest.utf8.lastIndex(of: UInt8(ascii: ":")), !rest.utf8[colon...].contains(UInt8(ascii: "/")) {
      tag = rest[rest.utf8.index(after: colon)...]
      rest = rest[..<colon]
    }
    return Parts(name: rest, tag: tag, digest: digest)
  }

  /// Splits off the registry the way Docker does: the first component names a
  /// registry only if it looks like a host (has a dot or a port, is
  /// "localhost", or has upper-case letters, which repositories cannot).
  static func splitDomain(_ name: Substring) -> (domain: Substring?, path: Substring) {
    guard let slash = name.utf8.firstIndex(of: UInt8(ascii: "/")) else { return (nil, name) }
    let first = name[..<slash]
    let looksLikeHost = first.utf8.contains { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: ":") || isUpper($0) } || first == "localhost"
    guard looksLikeHost else { return (nil, name) }
    return (first, name[name.utf8.index(after: slash)...])
  }

  /// `host[:port]`, where host is a DNS name, an IPv4 address or `[IPv6]`.
  static func domainProblem(_ domain: Substring) -> String? {
    var host = domain
    var port: Substring?
    let bracketed = domain.utf8.first == UInt8(ascii: "[")
    if bracketed {
      guard let close = domain.utf8.firstIndex(of: UInt8(ascii: "]")) else { return "unterminated IPv6 address in \"\(domain)\"" }
      let address = domain[domain.utf8.index(after: domain.startIndex)..<close]
      guard address.utf8.contains(UInt8(ascii: ":")), address.utf8.allSatisfy({ isHex($0) || $0 == UInt8(ascii: ":") }) else {
        return "invalid IPv6 address \"\(address)\""
      }
      let after = domain[domain.utf8.index(after: close)...]
      if let separator = after.utf8.first {
        guard separator == UInt8(ascii: ":") else { return "unexpected \"\(after)\" after IPv6 address" }
        port = after[after.utf8.index(after: after.startIndex)...]
      }
      host = ""
    } else if let colon = domain.utf8.lastIndex(of: UInt8(ascii: ":")) {
      host = domain[..<colon]
      port = domain[domain.utf8.index(after: colon)...]
    }
    if let port {
      guard !port.isEmpty, port.utf8.allSatisfy(isDigit) else { return "invalid port \"\(port)\"" }
    }
    if !bracketed {
      guard !host.isEmpty else { return "empty registry host" }
      for bytes in host.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
        guard let first = bytes.first, let last = bytes.last, isAlnum(first), isAlnum(last),
          bytes.allSatisfy({ isAlnum($0) || $0 == UInt8(ascii: "-") })
        else { return "invalid registry host \"\(host)\"" }
      }
    }
    return nil
  }

  /// Path components: lower-case letters and digits, joined by `.`, `_`,
  /// `__` or runs of `-`.
  static func pathProblem(_ path: Substring) -> String? {
    guard !path.isEmpty else { return "empty repository name" }
    if path.utf8.contains(where: isUpper) { return "repository name must be lowercase" }
    for component in path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
      guard isPathComponent(Array(component)) else {
        return component.isEmpty ? "empty path component in \"\(path)\"" : "invalid path component \"\(Substring(component))\""
      }
    }
    return nil
  }

  private static func isPathComponent(_ bytes: [UInt8]) -> Bool {
    guard let first = bytes.first, let last = bytes.last, isLowerAlnum(first), isLowerAlnum(last) else { return false }
    var index = 0
    while index < bytes.count {
      if isLowerAlnum(bytes[index]) {
        index += 1
        continue
      }
      // A separator run: ".", "_", "__", or any number of "-".
      var end = index
      while end < bytes.count, !isLowerAlnum(bytes[end]) { end += 1 }
      let separator = bytes[index..<end]
      let dot = UInt8(ascii: "."), underscore = UInt8(ascii: "_"), dash = UInt8(ascii: "-")
      let valid =
        separator.elementsEqual([dot]) || separator.elementsEqual([underscore])
        || separator.elementsEqual([underscore, underscore]) || separator.allSatisfy { $0 == dash }
      guard valid else { return false }
      index = end
    }
    return true
  }

  /// `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
  static func tagProblem(_ tag: Substring) -> String? {
    let bytes = tag.utf8
    guard let first = bytes.first else { return "empty tag" }
    guard bytes.count <= 128 else { return "tag longer than 128 characters" }
    let word: (UInt8) -> Bool = { isAlnum($0) || $0 == UInt8(ascii: "_") }
    guard word(first), bytes.allSatisfy({ word($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }) else {
      return "invalid tag \"\(tag)\""
    }
    return nil
  }

  static func isDigit(_ byte: UInt8) -> Bool { (48...57).contains(byte) }
  static func isUpper(_ byte: UInt8) -> Bool { (65...90).contains(byte) }
  static func isLowerAlnum(_ byte: UInt8) -> Bool { isDigit(byte) || (97...122).contains(byte) }
  static func isAlnum(_ byte: UInt8) -> Bool { isLowerAlnum(byte) || isUpper(byte) }
  static func isHex(_ byte: UInt8) -> Bool { isDigit(byte) || (97...102).contains(byte) || (65...70).contains(byte) }
}
