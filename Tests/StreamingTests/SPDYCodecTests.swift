import NIOCore
import Testing

@testable import StreamingWire

/// Encodes frames with one encoder and decodes them with one decoder, as a
/// connection's two zlib streams do.
private func roundTrip(_ frames: [SPDYFrame]) throws -> [SPDYFrame] {
  let encoder = try SPDYFrameEncoder()
  let decoder = try SPDYFrameDecoder()
  var buffer = ByteBuffer()
  for frame in frames { try encoder.encodeFrame(frame, into: &buffer) }
  var decoded: [SPDYFrame] = []
  while let frame = try decoder.decodeFrame(&buffer) {
    if let frame { decoded.append(frame) }
  }
  #expect(buffer.readableBytes == 0)
  return decoded
}

private func adler32(_ bytes: [UInt8]) -> UInt32 {
  var a: UInt32 = 1
  var b: UInt32 = 0
  for byte in bytes {
    a = (a + UInt32(byte)) % 65521
    b = (b + a) % 65521
  }
  return b << 16 | a
}

/// `streamtype: error` as an uncompressed SPDY/3 header block, by hand.
private let handMadeHeaderBlock: [UInt8] =
  [0, 0, 0, 1] + [0, 0, 0, 10] + Array("streamtype".utf8) + [0, 0, 0, 5] + Array("error".utf8)

@Suite struct SPDYCodecTests {
  @Test func dictionaryMatchesTheDraft() {
    let dictionary = SPDYHeaderDictionary.bytes
    #expect(dictionary.count == 1423)
    #expect(adler32(dictionary) == 0xE3C6_A7C2)
    #expect(Array(dictionary.prefix(11)) == [0, 0, 0, 7] + Array("options".utf8))
    #expect(String(decoding: dictionary.suffix(6), as: UTF8.self) == "enq=0.")
  }

  @Test func decodesAHandMadeSynStream() throws {
    // zlib by hand: CMF 0x78, FLG 0x20 (FDICT), the dictionary's Adler-32,
    // then one stored (uncompressed) deflate block holding the header block.
    let length = UInt16(handMadeHeaderBlock.count)
    let zlib: [UInt8] =
      [0x78, 0x20, 0xE3, 0xC6, 0xA7, 0xC2, 0x00, UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8(~length >> 8)]
      + handMadeHeaderBlock
    let frame: [UInt8] =
      [0x80, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, UInt8(10 + zlib.count)]
      + [0, 0, 0, 1] + [0, 0, 0, 0] + [0x40, 0x00] + zlib
    var buffer = ByteBuffer(bytes: frame)
    let decoded = try SPDYFrameDecoder().decodeFrame(&buffer)
    #expect(decoded == .some(.synStream(SPDYSynStream(streamID: 1, priority: 2, headers: ["streamtype": "error"]))))
  }

  @Test func encodesASynStreamPerTheDraft() throws {
    var buffer = ByteBuffer()
    try SPDYFrameEncoder().encodeFrame(
      .synStream(SPDYSynStream(streamID: 1, priority: 2, fin: true, headers: ["streamtype": "error"])), into: &buffer)
    let bytes = Array(buffer.readableBytesView)
    let compressedLength = bytes.count - 18
    #expect(Array(bytes[0..<8]) == [0x80, 0x03, 0x00, 0x01, 0x01, 0x00, 0x00, UInt8(10 + compressedLength)])
    #expect(Array(bytes[8..<18]) == [0, 0, 0, 1, 0, 0, 0, 0, 0x40, 0x00])
    // A zlib stream that names the SPDY dictionary...
    #expect(bytes[18] == 0x78 && bytes[19] & 0x20 != 0)
    #expect(Array(bytes[20..<24]) == [0xE3, 0xC6, 0xA7, 0xC2])
    // ...holding exactly the hand-made block.
    #expect(try SPDYHeaderInflater().decompress(Array(bytes[18...])) == handMadeHeaderBlock)
  }

  @Test func encodesADataFrame() throws {
    var buffer = ByteBuffer()
    try SPDYFrameEncoder().encodeFrame(.data(streamID: 3, payload: ByteBuffer(string: "hi"), fin: true), into: &buffer)
    #expect(Array(buffer.readableBytesView) == [0, 0, 0, 3, 0x01, 0, 0, 2, 0x68, 0x69])
  }

  @Test func everyFrameTypeRoundTrips() throws {
    let frames: [SPDYFrame] = [
      .synStream(SPDYSynStream(streamID: 1, headers: ["streamtype": "stdin", "port": "80"])),
      .synReply(streamID: 1, headers: [:], fin: false),
      .synStream(SPDYSynStream(streamID: 3, associatedStreamID: 1, priority: 7, unidirectional: true, headers: ["a": "b\0c"])),
      .headers(streamID: 3, headers: ["x": "y"], fin: true),
      .rstStream(streamID: 5, status: SPDYStreamStatus.cancel.rawValue),
      .settings(clearPersisted: true, [SPDYSetting(flags: 1, id: 7, value: 65536), SPDYSetting(id: 4, value: 100)]),
      .ping(id: 7),
      .goAway(lastGoodStreamID: 9, status: 1),
      .windowUpdate(streamID: 0, delta: 1000),
      .data(streamID: 1, payload: ByteBuffer(bytes: Array(repeating: 7, count: 70_000)), fin: false),
      .data(streamID: 1, payload: ByteBuffer(), fin: true),
    ]
    #expect(try roundTrip(frames) == frames)
  }

  @Test func headerCompressionKeepsOneStreamAcrossBlocks() throws {
    let deflater = try SPDYHeaderDeflater()
    let inflater = try SPDYHeaderInflater()
    for round in 0..<20 {
      let block = SPDYHeaderBlock.encode(["streamtype": "data", "port": "\(8000 + round)", "requestid": "\(round)"])
      #expect(try inflater.decompress(try deflater.compress(block)) == block)
    }
  }

  @Test func headerValuesSplitOnNUL() {
    let headers: SPDYHeaders = ["StreamType": "error\0other"]
    #expect(headers.first("streamtype") == "error")
  }

  @Test func partialFramesWaitForMoreBytes() throws {
    var whole = ByteBuffer()
    try SPDYFrameEncoder().encodeFrame(.ping(id: 1), into: &whole)
    var partial = whole.getSlice(at: 0, length: 6)!
    let decoder = try SPDYFrameDecoder()
    #expect(try decoder.decodeFrame(&partial) == nil)
    #expect(try decoder.decodeFrame(&whole) == .some(.ping(id: 1)))
  }

  @Test func unknownControlFramesAreSkipped() throws {
    var buffer = ByteBuffer(bytes: [0x80, 0x03, 0x00, 0x0A, 0, 0, 0, 2, 0xAA, 0xBB])
    let decoded = try SPDYFrameDecoder().decodeFrame(&buffer)
    #expect(decoded == .some(nil))
    #expect(buffer.readableBytes == 0)
  }

  @Test func malformedFramesThrow() throws {
    let cases: [[UInt8]] = [
      [0x80, 0x02, 0x00, 0x06, 0, 0, 0, 4, 0, 0, 0, 1],  // SPDY/2
      [0x80, 0x03, 0x00, 0x06, 0, 0, 0, 3, 0, 0, 1],  // PING of 3 bytes
      [0x80, 0x03, 0x00, 0x03, 0, 0, 0, 4, 0, 0, 0, 1],  // short RST_STREAM
      [0x80, 0x03, 0x00, 0x02, 0, 0, 0, 8, 0, 0, 0, 1, 1, 2, 3, 4],  // SYN_REPLY with junk for zlib
      [0x80, 0x03, 0x00, 0x04, 0, 0, 0, 4, 0, 0, 0, 9],  // SETTINGS claiming 9 entries
    ]
    for bytes in cases {
      var buffer = ByteBuffer(bytes: bytes)
      #expect(throws: SPDYProtocolError.self) { _ = try SPDYFrameDecoder().decodeFrame(&buffer) }
    }
  }

  @Test func oversizedControlFramesAreRefused() throws {
    var buffer = ByteBuffer(bytes: [0x80, 0x03, 0x00, 0x01, 0, 0x20, 0, 0])
    #expect(throws: SPDYProtocolError.frameTooLarge(length: 0x20_0000, limit: SPDYFrameDecoder.defaultMaxControlFrameLength)) {
      _ = try SPDYFrameDecoder().decodeFrame(&buffer)
    }
  }

  @Test func headerBlocksThatLieAboutTheirSizeAreRefused() {
    #expect(throws: SPDYProtocolError.self) { _ = try SPDYHeaderBlock.decode([0xFF, 0xFF, 0xFF, 0xFF]) }
    #expect(throws: SPDYProtocolError.self) { _ = try SPDYHeaderBlock.decode([0, 0, 0, 1, 0, 0, 0, 9, 1]) }
    #expect(throws: SPDYProtocolError.self) { _ = try SPDYHeaderBlock.decode([0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]) }
  }
}
