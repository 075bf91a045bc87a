import NIOCore

/// A frame or header block the peer sent that breaks SPDY/3.1. The
/// connection answers with GOAWAY and closes.
public enum SPDYProtocolError: Error, Sendable, Equatable {
  case unsupportedVersion(UInt16)
  case frameTooLarge(length: Int, limit: Int)
  case malformedFrame(type: UInt16, reason: String)
  case malformedHeaderBlock(String)
  case compression(SPDYCompressionError)
}

/// The uncompressed SPDY/3 header block: a 32-bit pair count, then each name
/// and value behind a 32-bit length (SPDY/3 section 2.6.10).
public enum SPDYHeaderBlock {
  public static func encode(_ headers: SPDYHeaders) -> [UInt8] {
    var out: [UInt8] = []
    appendLength(headers.entries.count, to: &out)
    for header in headers.entries {
      let name = Array(header.name.lowercased().utf8)
      let value = Array(header.value.utf8)
      appendLength(name.count, to: &out)
      out += name
      appendLength(value.count, to: &out)
      out += value
    }
    return out
  }

  public static func decode(_ block: [UInt8]) throws(SPDYProtocolError) -> SPDYHeaders {
    var buffer = ByteBuffer(bytes: block)
    guard let count = buffer.readInteger(as: UInt32.self) else {
      throw .malformedHeaderBlock("missing pair count")
    }
    // Each pair takes at least 8 bytes: refuse counts the block cannot hold
    // before reserving anything for them.
    guard Int(count) <= buffer.readableBytes / 8 else {
      throw .malformedHeaderBlock("\(count) pairs do not fit in \(block.count) bytes")
    }
    var headers = SPDYHeaders()
    headers.entries.reserveCapacity(Int(count))
    for _ in 0..<count {
      let name = try readString(&buffer, what: "name")
      guard !name.isEmpty else { throw .malformedHeaderBlock("empty header name") }
      let value = try readString(&buffer, what: "value")
      headers.entries.append(SPDYHeader(name, value))
    }
    guard buffer.readableBytes == 0 else {
      throw .malformedHeaderBlock("\(buffer.readableBytes) bytes after the last pair")
    }
    return headers
  }

  private static func readString(_ buffer: inout ByteBuffer, what: String) throws(SPDYProtocolError) -> String {
    guard let length = buffer.readInteger(as: UInt32.self), Int(length) <= buffer.readableBytes,
      let bytes = buffer.readBytes(length: Int(length))
    else { throw .malformedHeaderBlock("header \(what) runs past the block") }
    return String(decoding: bytes, as: UTF8.self)
  }

  private static func appendLength(_ length: Int, to out: inout [UInt8]) {
    let value = UInt32(length)
    out += [UInt8(value >> 24), UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
  }
}
