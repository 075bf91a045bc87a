/// Base64 without Foundation: the standard alphabet with padding (the
/// `base64.channel.k8s.io` WebSocket protocols) and the URL-safe alphabet
/// without padding (streaming tokens, as kubelet makes them).
public enum Base64 {
  public enum Alphabet: Sendable {
    case standard
    case urlSafeUnpadded
  }

  private static let standardTable = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
  private static let urlSafeTable = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

  public static func encode(_ bytes: some Collection<UInt8>, alphabet: Alphabet = .standard) -> String {
    let table = alphabet == .standard ? standardTable : urlSafeTable
    let input = Array(bytes)
    var out: [UInt8] = []
    out.reserveCapacity((input.count + 2) / 3 * 4)
    var index = 0
    while index < input.count {
      let remaining = input.count - index
      let b0 = input[index]
      let b1 = remaining > 1 ? input[index + 1] : 0
      let b2 = remaining > 2 ? input[index + 2] : 0
      out.append(table[Int(b0 >> 2)])
      out.append(table[Int((b0 & 0x03) << 4 | b1 >> 4)])
      if remaining > 1 { out.append(table[Int((b1 & 0x0F) << 2 | b2 >> 6)]) } else if alphabet == .standard { out.append(UInt8(ascii: "=")) }
      if remaining > 2 { out.append(table[Int(b2 & 0x3F)]) } else if alphabet == .standard { out.append(UInt8(ascii: "=")) }
      index += 3
    }
    return String(decoding: out, as: UTF8.self)
  }

  /// Decodes either alphabet, padded or not; nil for anything else.
  public static func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
    var values: [UInt8] = []
    values.reserveCapacity(text.count)
    var sawPadding = false
    for character in text {
      if character == UInt8(ascii: "=") {
        sawPadding = true
        continue
      }
      guard !sawPadding, let value = sextet(character) else { return nil }
      values.append(value)
    }
    guard values.count % 4 != 1 else { return nil }
    var out: [UInt8] = []
    out.reserveCapacity(values.count * 3 / 4)
    var index = 0
    while index < values.count {
      let chunk = values[index..<min(index + 4, values.count)].map { UInt32($0) }
      let packed = chunk.enumerated().reduce(UInt32(0)) { $0 | $1.element << (18 - 6 * UInt32($1.offset)) }
      out.append(UInt8(truncatingIfNeeded: packed >> 16))
      if chunk.count > 2 { out.append(UInt8(truncatingIfNeeded: packed >> 8)) }
      if chunk.count > 3 { out.append(UInt8(truncatingIfNeeded: packed)) }
      index += 4
    }
    return out
  }

  private static func sextet(_ character: UInt8) -> UInt8? {
    switch character {
    case UInt8(ascii: "A")...UInt8(ascii: "Z"): character - UInt8(ascii: "A")
    case UInt8(ascii: "a")...UInt8(ascii: "z"): character - UInt8(ascii: "a") + 26
    case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0") + 52
    case UInt8(ascii: "+"), UInt8(ascii: "-"): 62
    case UInt8(ascii: "/"), UInt8(ascii: "_"): 63
    default: nil
    }
  }
}
