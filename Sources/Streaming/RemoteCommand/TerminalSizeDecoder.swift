/// Reads the resize stream: a run of JSON objects like
/// `{"Width":80,"Height":24}` (client-go's json.Encoder, one per line; over
/// WebSocket one per message). Keys match case-insensitively, as Go's
/// decoder does; other keys are ignored. Incremental: feed whatever bytes
/// arrive, get the complete objects back. Public for the fuzz package (Fuzz/).
public struct TerminalSizeDecoder {
  /// A resize object is ~30 bytes; a peer sending more without closing the
  /// object is not sending resizes.
  static let maxObjectBytes = 4096

  private var pending: [UInt8] = []

  public enum Failure: Error, Equatable {
    case malformed
  }

  public init() {}

  public mutating func feed(_ bytes: [UInt8]) throws(Failure) -> [TerminalSize] {
    pending += bytes
    var sizes: [TerminalSize] = []
    while let end = Self.endOfFirstObject(pending) {
      let object = Array(pending[...end])
      pending.removeFirst(end + 1)
      sizes.append(try Self.parse(object))
    }
    // Only whitespace or a partial object may remain.
    if let start = pending.firstIndex(where: { !Self.isSpace($0) }) {
      guard pending[start] == UInt8(ascii: "{"), pending.count - start <= Self.maxObjectBytes else { throw .malformed }
    }
    return sizes
  }

  private static func isSpace(_ byte: UInt8) -> Bool {
    byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
  }

  /// The index of the `}` closing the first top-level object.
  private static func endOfFirstObject(_ bytes: [UInt8]) -> Int? {
    var depth = 0
    var inString = false
    var escaped = false
    for (index, byte) in bytes.enumerated() {
      if inString {
        if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
        continue
      }
      switch byte {
      case UInt8(ascii: "\""): inString = true
      case UInt8(ascii: "{"): depth += 1
      case UInt8(ascii: "}"):
        depth -= 1
        if depth == 0 { return index }
      default: break
      }
    }
    return nil
  }

  /// Pulls "width" and "height" numbers out of one flat object.
  private static func parse(_ object: [UInt8]) throws(Failure) -> TerminalSize {
    var width: UInt16 = 0
    var height: UInt16 = 0
    var index = 0
    func skipSpace() { while index < object.count, isSpace(object[index]) { index += 1 } }
    func readString() throws(Failure) -> String {
      guard index < object.count, object[index] == UInt8(ascii: "\"") else { throw .malformed }
      index += 1
      let start = index
      while index < object.count, object[index] != UInt8(ascii: "\"") {
        if object[index] == UInt8(ascii: "\\") { index += 1 }
        index += 1
      }
      guard index < object.count else { throw .malformed }
      defer { index += 1 }
      return String(decoding: object[start..<index], as: UTF8.self)
    }
    skipSpace()
    guard index < object.count, object[index] == UInt8(ascii: "{") else { throw .malformed }
    index += 1
    while true {
      skipSpace()
      guard index < object.count else { throw .malformed }
      if object[index] == UInt8(ascii: "}") { break }
      if object[index] == UInt8(ascii: ",") {
        index += 1
        continue
      }
      let key = try readString().lowercased()
      skipSpace()
      guard index < object.count, object[index] == UInt8(ascii: ":") else { throw .malformed }
      index += 1
      skipSpace()
      // Values are numbers for the keys we want; skip anything else flat.
      let start = index
      if index < object.count, object[index] == UInt8(ascii: "\"") {
        _ = try readString()
      } else {
        while index < object.count, object[index] != UInt8(ascii: ","), object[index] != UInt8(ascii: "}") { index += 1 }
      }
      let text = String(decoding: object[start..<index], as: UTF8.self).trimmingCharacters()
      switch key {
      case "width": guard let value = UInt16(text) else { throw .malformed }; width = value
      case "height": guard let value = UInt16(text) else { throw .malformed }; height = value
      default: break
      }
    }
    return TerminalSize(width: width, height: height)
  }
}

extension String {
  fileprivate func trimmingCharacters() -> String {
    String(Substring(self).trimmingSpaces()).filter { $0 != "\n" && $0 != "\r" }
  }
}

/// Feeds a resize byte stream through the decoder into the session's
/// resize events, until the stream ends or turns out not to be JSON.
func forwardResizeEvents(from bytes: ByteStream, to sizes: AsyncStream<TerminalSize>.Continuation) async {
  var decoder = TerminalSizeDecoder()
  for await chunk in bytes {
    guard let decoded = try? decoder.feed(chunk) else { break }
    for size in decoded { sizes.yield(size) }
  }
  sizes.finish()
}
