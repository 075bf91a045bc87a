import FuzzSupport
import Registry

// Text the Registry module parses from outside: the first byte picks
//   0 (even): a registry's WWW-Authenticate header (the 401 answer of any
//             registry a pull reaches);
//   1 (odd):  an image reference (from a CRI request or registries.conf);
//             what parses must print back to text that parses to the same
//             name, tag and digest.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRegistryText(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  guard size > 0 else { return 0 }
  let text = String(decoding: UnsafeBufferPointer(start: data + 1, count: size - 1), as: UTF8.self)
  if data[0] & 1 == 0 {
    for challenge in AuthChallenge.parse(text) {
      _ = challenge["realm"]
      _ = challenge["service"]
      _ = challenge["scope"]
    }
  } else if let reference = try? ImageReference(parsing: text) {
    // Equal but for isShortName: the printed form is fully qualified.
    guard let again = try? ImageReference(parsing: reference.description), again.registry == reference.registry,
      again.repository == reference.repository, again.tag == reference.tag, again.digest == reference.digest
    else {
      violated("\(text) parses to \(reference), which does not parse back equal")
    }
  }
  return 0
}

@_cdecl("fuzz_registry_text_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
  runFuzzer(argc, argv) { data, size in fuzzRegistryText(data!, size) }
}
