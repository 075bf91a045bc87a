import FuzzSupport
import StreamingWire

// A WebSocket message's payload as Kubernetes channel framing: binary (v4,
// v5) and base64 (the base64 variants). Base64 that decodes must encode back
// to text that decodes to the same bytes, and a decoded message must encode
// back to what it came from in binary.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzChannels(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = Array(UnsafeBufferPointer(start: data, count: size))
  if let message = try? ChannelEncoding.binary.decode(bytes) {
    if ChannelEncoding.binary.encode(message) != bytes { fatalError("binary message does not encode back") }
    _ = message.closedChannel
  }
  if let message = try? ChannelEncoding.base64.decode(bytes) {
    let encoded = ChannelEncoding.base64.encode(message)
    guard let again = try? ChannelEncoding.base64.decode(encoded), again == message else {
      fatalError("base64 message does not survive encode/decode")
    }
  }
  if let decoded = Base64.decode(bytes) {
    for alphabet in [Base64.Alphabet.standard, .urlSafeUnpadded] {
      guard Base64.decode(Array(Base64.encode(decoded, alphabet: alphabet).utf8)) == decoded else {
        fatalError("base64 does not survive encode/decode")
      }
    }
  }
  return 0
}

@_cdecl("fuzz_channels_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
  runFuzzer(argc, argv) { data, size in fuzzChannels(data!, size) }
}
