import FuzzSupport
import Registry

// policy.json, then the decision for references of every scope kind.
let references: [ImageReference] = [
  "docker.io/library/busybox:latest", "quay.io/team/app:v1", "localhost:5000/a/b/c:tag",
  "registry.example/ns/image@sha256:" + String(repeating: "0", count: 64),
].compactMap { try? ImageReference(parsing: $0) }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPolicy(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = Array(UnsafeBufferPointer(start: data, count: size))
  guard let policy = try? SignaturePolicy.parse(json: bytes, file: "policy.json") else { return 0 }
  for reference in references {
    _ = policy.evaluate(reference)
    _ = try? policy.check(reference)
  }
  return 0
}

@_cdecl("fuzz_policy_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
  runFuzzer(argc, argv) { data, size in fuzzPolicy(data!, size) }
}
