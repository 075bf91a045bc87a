import NIOCore
import Testing

@testable import Server

/// The request size check follows gRPC message prefixes across the chunks
/// (DATA frames) a request arrives in.
@Suite struct GRPCMessagePrefixesTests {
  /// A gRPC message: flag byte, 4-byte big-endian length, `length` bytes.
  func message(_ length: Int) -> [UInt8] {
    [0, UInt8(length >> 24 & 0xff), UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff), UInt8(length & 0xff)]
      + Array(repeating: 0x61, count: length)
  }

  @Test func messagesUpToTheLimitPass() {
    var prefixes = GRPCMessagePrefixes()
    #expect(prefixes.firstLength(exceeding: 10, in: ByteBuffer(bytes: message(10) + message(0) + message(3))) == nil)
  }

  @Test func theFirstLongerMessageIsReportedWhereverItsPrefixIsCut() {
    let bytes = message(4) + message(11)
    for cut in 0...bytes.count {
      var prefixes = GRPCMessagePrefixes()
      let first = prefixes.firstLength(exceeding: 10, in: ByteBuffer(bytes: bytes[..<cut]))
      let second = prefixes.firstLength(exceeding: 10, in: ByteBuffer(bytes: bytes[cut...]))
      #expect((first ?? second) == 11, "cut at \(cut)")
    }
  }

  @Test func aBodyThatLooksLikeAPrefixIsSkipped() {
    var prefixes = GRPCMessagePrefixes()
    // The first message's body is itself a prefix announcing 2^32 - 1 bytes.
    let body: [UInt8] = [0, 0xff, 0xff, 0xff, 0xff]
    let bytes = [0, 0, 0, 0, 5] + body + message(2)
    #expect(prefixes.firstLength(exceeding: 10, in: ByteBuffer(bytes: bytes)) == nil)
  }
}
