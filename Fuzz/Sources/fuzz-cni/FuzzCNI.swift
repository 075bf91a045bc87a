import FuzzSupport
import PodNetwork

// What a CNI plugin prints (its result), what the result cache holds (read
// back after a restart) and a network configuration list. The first byte
// picks which of the three the rest is.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCNI(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  guard size > 0 else { return 0 }
  let text = String(decoding: UnsafeBufferPointer(start: data + 1, count: size - 1), as: UTF8.self)
  switch data[0] % 3 {
  case 0:
    if let result = try? CNIResult(json: text) { _ = result.podIPs }
  case 1:
    _ = try? CNICacheEntry(json: text, file: "cache")
  default:
    _ = try? CNINetworkConfig(listJSON: text, file: "net.conflist")
  }
  return 0
}

@_cdecl("fuzz_cni_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
  runFuzzer(argc, argv) { data, size in fuzzCNI(data!, size) }
}
