import CZlib

/// Why a header block could not be (de)compressed. Any of these leaves the
/// connection's zlib stream unusable, so the connection must end.
public enum SPDYCompressionError: Error, Sendable, Equatable {
  case zlibInitFailed(code: Int32)
  case zlibFailed(code: Int32)
  /// The peer's block inflates past the limit we accept.
  case headerBlockTooLarge(limit: Int)
}

/// The sending half of SPDY/3 header compression: one zlib stream for the
/// connection's lifetime, primed with the SPDY dictionary, each header block
/// ended with a sync flush so the peer can decode it on its own.
/// Confined to one connection (an event loop); not thread safe.
public final class SPDYHeaderDeflater {
  private let stream: UnsafeMutablePointer<z_stream>

  public init() throws(SPDYCompressionError) {
    stream = .allocate(capacity: 1)
    stream.initialize(to: z_stream())
    let initCode = czlib_deflate_init(stream, Z_DEFAULT_COMPRESSION)
    guard initCode == Z_OK else {
      stream.deallocate()
      throw .zlibInitFailed(code: initCode)
    }
    let dictionaryCode = SPDYHeaderDictionary.bytes.withUnsafeBufferPointer {
      deflateSetDictionary(stream, $0.baseAddress, uInt($0.count))
    }
    guard dictionaryCode == Z_OK else {
      deflateEnd(stream)
      stream.deallocate()
      throw .zlibInitFailed(code: dictionaryCode)
    }
  }

  deinit {
    deflateEnd(stream)
    stream.deallocate()
  }

  public func compress(_ block: [UInt8]) throws(SPDYCompressionError) -> [UInt8] {
    var output: [UInt8] = []
    var input = block
    var chunk = [UInt8](repeating: 0, count: max(256, block.count + 64))
    let code: Int32 = input.withUnsafeMutableBufferPointer { inputBuffer in
      stream.pointee.next_in = inputBuffer.baseAddress
      stream.pointee.avail_in = uInt(inputBuffer.count)
      while true {
        let (result, produced) = chunk.withUnsafeMutableBufferPointer { chunkBuffer in
          stream.pointee.next_out = chunkBuffer.baseAddress
          stream.pointee.avail_out = uInt(chunkBuffer.count)
          let result = deflate(stream, Z_SYNC_FLUSH)
          return (result, chunkBuffer.count - Int(stream.pointee.avail_out))
        }
        output += chunk[0..<produced]
        // Z_BUF_ERROR only means "no progress possible": everything is out.
        if result == Z_BUF_ERROR { return Z_OK }
        guard result == Z_OK else { return result }
        if stream.pointee.avail_out != 0 { return Z_OK }
      }
    }
    stream.pointee.next_in = nil
    guard code == Z_OK else { throw .zlibFailed(code: code) }
    return output
  }
}

/// The receiving half: inflates each header block with the connection's
/// single zlib stream, supplying the SPDY dictionary when zlib asks for it.
public final class SPDYHeaderInflater {
  private let stream: UnsafeMutablePointer<z_stream>
  private let limit: Int

  /// - Parameter limit: the most bytes one header block may inflate to; a
  ///   small compressed block can otherwise claim a lot of memory.
  public init(limit: Int = 256 * 1024) throws(SPDYCompressionError) {
    self.limit = limit
    stream = .allocate(capacity: 1)
    stream.initialize(to: z_stream())
    let initCode = czlib_inflate_init(stream)
    guard initCode == Z_OK else {
      stream.deallocate()
      throw .zlibInitFailed(code: initCode)
    }
  }

  deinit {
    inflateEnd(stream)
    stream.deallocate()
  }

  public func decompress(_ block: [UInt8]) throws(SPDYCompressionError) -> [UInt8] {
    guard !block.isEmpty else { return [] }
    var output: [UInt8] = []
    var input = block
    var chunk = [UInt8](repeating: 0, count: 4096)
    var failure: SPDYCompressionError?
    input.withUnsafeMutableBufferPointer { inputBuffer in
      stream.pointee.next_in = inputBuffer.baseAddress
      stream.pointee.avail_in = uInt(inputBuffer.count)
      while true {
        let (result, produced) = chunk.withUnsafeMutableBufferPointer { chunkBuffer in
          stream.pointee.next_out = chunkBuffer.baseAddress
          stream.pointee.avail_out = uInt(chunkBuffer.count)
          let result = inflate(stream, Z_SYNC_FLUSH)
          return (result, chunkBuffer.count - Int(stream.pointee.avail_out))
        }
        output += chunk[0..<produced]
        if output.count > limit {
          failure = .headerBlockTooLarge(limit: limit)
          return
        }
        switch result {
        case Z_NEED_DICT:
          let code = SPDYHeaderDictionary.bytes.withUnsafeBufferPointer {
            inflateSetDictionary(stream, $0.baseAddress, uInt($0.count))
          }
          if code != Z_OK {
            failure = .zlibFailed(code: code)
            return
          }
        case Z_OK:
          if stream.pointee.avail_in == 0 && stream.pointee.avail_out != 0 { return }
        case Z_BUF_ERROR, Z_STREAM_END:
          // No progress possible: all input consumed and flushed. (A peer
          // that ends its stream breaks the next block, not this one.)
          return
        default:
          failure = .zlibFailed(code: result)
          return
        }
      }
    }
    stream.pointee.next_in = nil
    if let failure { throw failure }
    return output
  }
}
