import FuzzSupport
import NIOCore
import StreamingWire

// SPDY/3.1 from a client, as the streaming server's decoder sees it. The
// first byte picks the mode:
//   0 (mod 3): the rest is the connection's bytes, read in the chunks that
//              0xFF bytes mark (see FuzzSupport.chunks), decoded frame by
//              frame with one zlib stream, as ByteToMessageHandler drives it;
//   1: the rest is a bare (uncompressed) header block;
//   2: the rest is a header block, deflated with SPDY's dictionary and sent
//      in a SYN_STREAM, so mutations reach the block parser through zlib.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSPDY(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  guard size > 0 else { return 0 }
  let rest = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
  switch data[0] % 3 {
  case 0:
    decodeConnection(chunks(rest))
  case 1:
    _ = try? SPDYHeaderBlock.decode(rest)
  default:
    guard let deflater = try? SPDYHeaderDeflater(), let block = try? deflater.compress(rest) else {
      fatalError("cannot deflate")
    }
    var frame: [UInt8] = [0x80, 0x03, 0x00, 0x01]
    let length = 10 + block.count
    frame += [0x00, UInt8(truncatingIfNeeded: length >> 16), UInt8(truncatingIfNeeded: length >> 8), UInt8(truncatingIfNeeded: length)]
    frame += [0, 0, 0, 1, 0, 0, 0, 0, 0, 0] + block
    decodeConnection([frame])
  }
  return 0
}

func decodeConnection(_ reads: [[UInt8]]) {
  // Small limits, so the fuzzer meets them without megabyte inputs.
  guard let decoder = try? SPDYFrameDecoder(maxControlFrameLength: 1 << 16, maxDataFrameLength: 1 << 16) else {
    fatalError("cannot make a decoder")
  }
  var buffer = ByteBuffer()
  for read in reads {
    buffer.writeBytes(read)
    while true {
      do {
        guard let frame = try decoder.decodeFrame(&buffer) else { break }
        _ = frame
      } catch {
        return  // the connection would answer GOAWAY and close
      }
    }
    buffer.discardReadBytes()
  }
}

@_cdecl("fuzz_spdy_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
  runFuzzer(argc, argv) { data, size in fuzzSPDY(data!, size) }
}
