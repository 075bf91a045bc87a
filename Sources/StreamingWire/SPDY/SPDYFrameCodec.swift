import NIOCore

/// Turns bytes from the peer into `SPDYFrame`s, inflating header blocks with
/// the connection's receiving zlib stream. Unknown control frame types are
/// skipped, as SPDY/3 asks.
public final class SPDYFrameDecoder: ByteToMessageDecoder {
  public typealias InboundOut = SPDYFrame

  /// Control frames carry headers and small fixed fields; nothing legitimate
  /// comes near this.
  public static let defaultMaxControlFrameLength = 1 << 20
  /// The 24-bit length field's own limit.
  public static let defaultMaxDataFrameLength = (1 << 24) - 1

  private let inflater: SPDYHeaderInflater
  private let maxControlFrameLength: Int
  private let maxDataFrameLength: Int

  public init(
    maxControlFrameLength: Int = defaultMaxControlFrameLength,
    maxDataFrameLength: Int = defaultMaxDataFrameLength
  ) throws(SPDYCompressionError) {
    inflater = try SPDYHeaderInflater()
    self.maxControlFrameLength = maxControlFrameLength
    self.maxDataFrameLength = maxDataFrameLength
  }

  public func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
    guard let frame = try decodeFrame(&buffer) else { return .needMoreData }
    if let frame { context.fireChannelRead(wrapInboundOut(frame)) }
    return .continue
  }

  public func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
    // A partial frame at EOF is just a peer that went away mid-write.
    try decode(context: context, buffer: &buffer)
  }

  /// Decodes one frame. Returns nil when more bytes are needed, `.some(nil)`
  /// when a frame was consumed but is to be ignored.
  public func decodeFrame(_ buffer: inout ByteBuffer) throws(SPDYProtocolError) -> SPDYFrame?? {
    guard buffer.readableBytes >= SPDYWire.frameHeaderLength,
      let first = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self),
      let flagsAndLength = buffer.getInteger(at: buffer.readerIndex + 4, as: UInt32.self)
    else { return nil }
    let isControl = first & 0x8000_0000 != 0
    let flags = UInt8(flagsAndLength >> 24)
    let length = Int(flagsAndLength & 0x00FF_FFFF)
    let limit = isControl ? maxControlFrameLength : maxDataFrameLength
    guard length <= limit else { throw .frameTooLarge(length: length, limit: limit) }
    guard buffer.readableBytes >= SPDYWire.frameHeaderLength + length else { return nil }
    buffer.moveReaderIndex(forwardBy: SPDYWire.frameHeaderLength)
    var payload = buffer.readSlice(length: length)!
    if !isControl {
      return .some(.data(streamID: first & SPDYWire.maxStreamID, payload: payload, fin: flags & SPDYWire.flagFin != 0))
    }
    let version = UInt16(truncatingIfNeeded: first >> 16) & 0x7FFF
    guard version == SPDYWire.version else { throw .unsupportedVersion(version) }
    let rawType = UInt16(truncatingIfNeeded: first)
    guard let type = SPDYWire.ControlType(rawValue: rawType) else { return .some(nil) }
    return .some(try decodeControl(type, flags: flags, payload: &payload))
  }

  private func decodeControl(_ type: SPDYWire.ControlType, flags: UInt8, payload: inout ByteBuffer) throws(SPDYProtocolError) -> SPDYFrame {
    func malformed(_ reason: String) -> SPDYProtocolError { .malformedFrame(type: type.rawValue, reason: reason) }
    func streamID() throws(SPDYProtocolError) -> UInt32 {
      guard let raw = payload.readInteger(as: UInt32.self) else { throw malformed("too short") }
      return raw & SPDYWire.maxStreamID
    }
    let fin = flags & SPDYWire.flagFin != 0
    switch type {
    case .synStream:
      let id = try streamID()
      let associated = try streamID()
      guard let priority = payload.readInteger(as: UInt8.self), payload.readInteger(as: UInt8.self) != nil else {
        throw malformed("too short")
      }
      guard id != 0 else { throw malformed("stream 0") }
      return .synStream(
        SPDYSynStream(
          streamID: id, associatedStreamID: associated, priority: priority >> 5, fin: fin,
          unidirectional: flags & SPDYWire.flagUnidirectional != 0, headers: try headerBlock(&payload)))
    case .synReply:
      let id = try streamID()
      return .synReply(streamID: id, headers: try headerBlock(&payload), fin: fin)
    case .headers:
      let id = try streamID()
      return .headers(streamID: id, headers: try headerBlock(&payload), fin: fin)
    case .rstStream:
      guard payload.readableBytes == 8 else { throw malformed("length \(payload.readableBytes), want 8") }
      let id = try streamID()
      return .rstStream(streamID: id, status: payload.readInteger(as: UInt32.self)!)
    case .settings:
      guard let count = payload.readInteger(as: UInt32.self), payload.readableBytes == Int(count) * 8 else {
        throw malformed("entry count does not match length")
      }
      var settings: [SPDYSetting] = []
      for _ in 0..<count {
        let flagsAndID = payload.readInteger(as: UInt32.self)!
        let value = payload.readInteger(as: UInt32.self)!
        settings.append(SPDYSetting(flags: UInt8(flagsAndID >> 24), id: flagsAndID & 0x00FF_FFFF, value: value))
      }
      return .settings(clearPersisted: flags & SPDYWire.flagClearSettings != 0, settings)
    case .ping:
      guard payload.readableBytes == 4 else { throw malformed("length \(payload.readableBytes), want 4") }
      return .ping(id: payload.readInteger(as: UInt32.self)!)
    case .goAway:
      // SPDY/2 peers omit the status; accept both lengths.
      guard payload.readableBytes == 8 || payload.readableBytes == 4 else {
        throw malformed("length \(payload.readableBytes), want 8")
      }
      let lastGood = try streamID()
      return .goAway(lastGoodStreamID: lastGood, status: payload.readInteger(as: UInt32.self) ?? 0)
    case .windowUpdate:
      guard payload.readableBytes == 8 else { throw malformed("length \(payload.readableBytes), want 8") }
      let id = try streamID()
      let delta = payload.readInteger(as: UInt32.self)! & 0x7FFF_FFFF
      return .windowUpdate(streamID: id, delta: delta)
    }
  }

  private func headerBlock(_ payload: inout ByteBuffer) throws(SPDYProtocolError) -> SPDYHeaders {
    let compressed = payload.readBytes(length: payload.readableBytes) ?? []
    let block: [UInt8]
    do {
      block = try inflater.decompress(compressed)
    } catch {
      throw .compression(error)
    }
    // An empty block (no bytes at all) means no headers.
    if block.isEmpty { return SPDYHeaders() }
    return try SPDYHeaderBlock.decode(block)
  }
}

/// Turns `SPDYFrame`s into bytes, deflating header blocks with the
/// connection's sending zlib stream.
public final class SPDYFrameEncoder: MessageToByteEncoder {
  public typealias OutboundIn = SPDYFrame

  private let deflater: SPDYHeaderDeflater

  public init() throws(SPDYCompressionError) {
    deflater = try SPDYHeaderDeflater()
  }

  public func encode(data frame: SPDYFrame, out: inout ByteBuffer) throws {
    try encodeFrame(frame, into: &out)
  }

  public func encodeFrame(_ frame: SPDYFrame, into out: inout ByteBuffer) throws(SPDYCompressionError) {
    switch frame {
    case .data(let streamID, let payload, let fin):
      out.writeInteger(streamID & SPDYWire.maxStreamID)
      writeFlagsAndLength(fin ? SPDYWire.flagFin : 0, payload.readableBytes, into: &out)
      var payload = payload
      out.writeBuffer(&payload)
    case .synStream(let syn):
      let block = try deflater.compress(SPDYHeaderBlock.encode(syn.headers))
      var flags: UInt8 = syn.fin ? SPDYWire.flagFin : 0
      if syn.unidirectional { flags |= SPDYWire.flagUnidirectional }
      writeControlHeader(.synStream, flags: flags, length: 10 + block.count, into: &out)
      out.writeInteger(syn.streamID & SPDYWire.maxStreamID)
      out.writeInteger(syn.associatedStreamID & SPDYWire.maxStreamID)
      out.writeInteger(UInt8((syn.priority & 0x07) << 5))
      out.writeInteger(UInt8(0))  // credential slot, unused
      out.writeBytes(block)
    case .synReply(let streamID, let headers, let fin):
      try writeHeadersFrame(.synReply, streamID: streamID, headers: headers, fin: fin, into: &out)
    case .headers(let streamID, let headers, let fin):
      try writeHeadersFrame(.headers, streamID: streamID, headers: headers, fin: fin, into: &out)
    case .rstStream(let streamID, let status):
      writeControlHeader(.rstStream, flags: 0, length: 8, into: &out)
      out.writeInteger(streamID & SPDYWire.maxStreamID)
      out.writeInteger(status)
    case .settings(let clear, let settings):
      writeControlHeader(.settings, flags: clear ? SPDYWire.flagClearSettings : 0, length: 4 + 8 * settings.count, into: &out)
      out.writeInteger(UInt32(settings.count))
      for setting in settings {
        out.writeInteger(UInt32(setting.flags) << 24 | (setting.id & 0x00FF_FFFF))
        out.writeInteger(setting.value)
      }
    case .ping(let id):
      writeControlHeader(.ping, flags: 0, length: 4, into: &out)
      out.writeInteger(id)
    case .goAway(let lastGood, let status):
      writeControlHeader(.goAway, flags: 0, length: 8, into: &out)
      out.writeInteger(lastGood & SPDYWire.maxStreamID)
      out.writeInteger(status)
    case .windowUpdate(let streamID, let delta):
      writeControlHeader(.windowUpdate, flags: 0, length: 8, into: &out)
      out.writeInteger(streamID & SPDYWire.maxStreamID)
      out.writeInteger(delta & 0x7FFF_FFFF)
    }
  }

  private func writeHeadersFrame(
    _ type: SPDYWire.ControlType, streamID: UInt32, headers: SPDYHeaders, fin: Bool, into out: inout ByteBuffer
  ) throws(SPDYCompressionError) {
    let block = try deflater.compress(SPDYHeaderBlock.encode(headers))
    writeControlHeader(type, flags: fin ? SPDYWire.flagFin : 0, length: 4 + block.count, into: &out)
    out.writeInteger(streamID & SPDYWire.maxStreamID)
    out.writeBytes(block)
  }

  private func writeControlHeader(_ type: SPDYWire.ControlType, flags: UInt8, length: Int, into out: inout ByteBuffer) {
    out.writeInteger(UInt16(SPDYWire.controlBit) << 8 | SPDYWire.version)
    out.writeInteger(type.rawValue)
    writeFlagsAndLength(flags, length, into: &out)
  }

  private func writeFlagsAndLength(_ flags: UInt8, _ length: Int, into out: inout ByteBuffer) {
    out.writeInteger(UInt32(flags) << 24 | UInt32(length & 0x00FF_FFFF))
  }
}
