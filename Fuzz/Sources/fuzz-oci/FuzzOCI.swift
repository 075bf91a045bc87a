import FuzzSupport
import OCI

// Bytes a registry serves as a manifest, an index or a config, decoded as the
// puller does (media type sniffing, platform choice, chain IDs). Whatever
// decodes must encode (the stored form) and decode back equal.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOCI(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = Array(UnsafeBufferPointer(start: data, count: size))
  _ = OCIJSON.declaredMediaType(of: bytes)
  if let index = try? OCIJSON.decode(ImageIndex.self, from: bytes, kind: "image index") {
    roundTrip(index)
    _ = try? Platform.select(from: index.manifests)
  }
  if let manifest = try? OCIJSON.decode(ImageManifest.self, from: bytes, kind: "image manifest") {
    roundTrip(manifest)
  }
  if let config = try? OCIJSON.decode(ImageConfiguration.self, from: bytes, kind: "image config") {
    roundTrip(config)
    _ = chainIDs(of: config.rootfs.diffIDs)
  }
  _ = try? Digest(parsing: String(decoding: bytes, as: UTF8.self))
  return 0
}

func roundTrip<T: Codable & Equatable>(_ value: T) {
  let encoded = OCIJSON.encode(value)
  guard let decoded = try? OCIJSON.decode(T.self, from: encoded, kind: "re-encoded") else {
    fatalError("\(T.self) does not decode from its own encoding: \(String(decoding: encoded, as: UTF8.self))")
  }
  if decoded != value { fatalError("\(T.self) changes through encode/decode: \(String(decoding: encoded, as: UTF8.self))") }
}

@_cdecl("fuzz_oci_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
  runFuzzer(argc, argv) { data, size in fuzzOCI(data!, size) }
}
