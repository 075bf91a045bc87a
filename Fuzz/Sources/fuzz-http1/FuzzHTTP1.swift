import FuzzSupport
import Support

// The first bytes of a connection to the daemon's socket, arriving in the
// reads that 0xFF bytes mark, judged after each read as ProtocolSniffer does:
// once the bytes say HTTP/2 or HTTP/1 they keep saying it, and an HTTP/1 head
// gives a request whose path starts with "/", or an error, never both ways.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTP1(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  var seen: [UInt8] = []
  var decided: ConnectionSniffing.Kind?
  for read in chunks(Array(UnsafeBufferPointer(start: data, count: size))) {
    seen += read
    let kind = ConnectionSniffing.classify(seen)
    if let decided, kind != decided { violated("\(decided) became \(kind)") }
    if kind != .undecided { decided = kind }
    guard kind == .http1 else { continue }
    switch ConnectionSniffing.parseHead(seen) {
    case .request(let request):
      guard request.path.hasPrefix("/"), !request.path.contains("?"), !request.method.isEmpty else {
        violated("request \(request.method) \(request.path)")
      }
      return 0  // answered; later bytes are ignored
    case .malformed, .tooLarge:
      return 0
    case .incomplete:
      continue
    }
  }
  return 0
}

@_cdecl("fuzz_http1_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
  runFuzzer(argc, argv) { data, size in fuzzHTTP1(data!, size) }
}
