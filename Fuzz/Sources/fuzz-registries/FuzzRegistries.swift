import FuzzSupport
import Registry

// registries.conf text, then what a pull asks of the result: the candidates
// for a short name and the endpoints for qualified references.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRegistries(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
  guard let conf = try? RegistriesConf.parse(toml: text, file: "registries.conf") else { return 0 }
  for name in ["busybox", "library/alpine:3", "quay.io/team/app@sha256:" + String(repeating: "a", count: 64)] {
    guard let candidates = try? conf.candidates(for: name) else { continue }
    for reference in candidates {
      _ = try? conf.endpoints(for: reference, extraInsecure: ["localhost:5000"])
    }
  }
  for prefix in conf.registries.map(\.prefix) { _ = conf.registry(for: prefix) }
  return 0
}

@_cdecl("fuzz_registries_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
  runFuzzer(argc, argv) { data, size in fuzzRegistries(data!, size) }
}
