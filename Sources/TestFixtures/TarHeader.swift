/// The ustar and pax header encoding behind TarBuilder (POSIX.1-2001 "pax"
/// interchange format): 512-byte blocks, NUL-terminated octal numbers, and a
/// checksum over the header with its own field read as spaces.
enum TarHeader {
  static let block = 512

  static func append(_ entry: TarBuilder.Entry, to out: inout [UInt8]) {
    var records: [(String, [UInt8])] = []
    if entry.path.count > 100 { records.append(("path", entry.path)) }
    if entry.linkTarget.count > 100 { records.append(("linkpath", entry.linkTarget)) }
    if entry.uid > 0o7777777 { records.append(("uid", Array(String(entry.uid).utf8))) }
    if entry.gid > 0o7777777 { records.append(("gid", Array(String(entry.gid).utf8))) }
    if entry.mtimeNanoseconds != 0 {
      let fraction = String(entry.mtimeNanoseconds)
      let padded = String(repeating: "0", count: max(0, 9 - fraction.count)) + fraction
      records.append(("mtime", Array("\(entry.mtime).\(padded)".utf8)))
    }
    for xattr in entry.xattrs {
      records.append(("SCHILY.xattr.\(xattr.name)", xattr.value))
    }
    if !records.isEmpty {
      let body = records.flatMap { paxRecord($0.0, $0.1) }
      var pax = TarBuilder.Entry(path: Array("PaxHeaders/".utf8) + entry.path.suffix(80), type: .file)
      pax.contents = body
      pax.mtime = entry.mtime
      appendHeader(pax, typeflag: UInt8(ascii: "x"), to: &out)
      appendContents(body, to: &out)
    }
    appendHeader(entry, typeflag: entry.type.rawValue, to: &out)
    if entry.type == .file { appendContents(entry.contents, to: &out) }
  }

  /// "<length> <key>=<value>\n", where the length counts itself.
  static func paxRecord(_ key: String, _ value: [UInt8]) -> [UInt8] {
    let rest = 1 + key.utf8.count + 1 + value.count + 1
    var length = rest + String(rest).count
    if String(length).count != String(rest).count { length = rest + String(length).count }
    return Array("\(length) \(key)=".utf8) + value + [UInt8(ascii: "\n")]
  }

  private static func appendHeader(_ entry: TarBuilder.Entry, typeflag: UInt8, to out: inout [UInt8]) {
    var header = [UInt8](repeating: 0, count: block)
    put(Array(entry.path.prefix(100)), at: 0, in: &header)
    put(octal(Int(entry.mode & 0o7777), width: 8), at: 100, in: &header)
    put(octal(min(entry.uid, 0o7777777), width: 8), at: 108, in: &header)
    put(octal(min(entry.gid, 0o7777777), width: 8), at: 116, in: &header)
    let size = typeflag == UInt8(ascii: "x") || entry.type == .file ? entry.contents.count : 0
    put(octal(size, width: 12), at: 124, in: &header)
    put(octal(entry.mtime, width: 12), at: 136, in: &header)
    header[156] = typeflag
    put(Array(entry.linkTarget.prefix(100)), at: 157, in: &header)
    put(Array("ustar\0".utf8), at: 257, in: &header)
    put(Array("00".utf8), at: 263, in: &header)
    put(Array("root".utf8), at: 265, in: &header)
    put(Array("root".utf8), at: 297, in: &header)
    if entry.type == .characterDevice || entry.type == .blockDevice {
      put(octal(entry.deviceMajor, width: 8), at: 329, in: &header)
      put(octal(entry.deviceMinor, width: 8), at: 337, in: &header)
    }
    // The checksum is computed with its own field as eight spaces, then
    // written as six octal digits, NUL, space.
    put([UInt8](repeating: 0x20, count: 8), at: 148, in: &header)
    let sum = header.reduce(0) { $0 + Int($1) }
    put(octal(sum, width: 7) + [0x20], at: 148, in: &header)
    out += header
  }

  private static func appendContents(_ contents: [UInt8], to out: inout [UInt8]) {
    out += contents
    let remainder = contents.count % block
    if remainder != 0 { out += [UInt8](repeating: 0, count: block - remainder) }
  }

  /// `width - 1` zero-padded octal digits and a NUL.
  private static func octal(_ value: Int, width: Int) -> [UInt8] {
    let digits = String(value, radix: 8)
    let padded = String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits
    return Array(padded.utf8.suffix(width - 1)) + [0]
  }

  private static func put(_ bytes: [UInt8], at offset: Int, in header: inout [UInt8]) {
    header.replaceSubrange(offset..<offset + bytes.count, with: bytes)
  }
}
