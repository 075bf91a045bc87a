import FuzzSupport
import Config

// A crio.conf (or drop-in) as ConfigLoader reads it on top of the defaults.
// Whatever loads must render (`crio config`) to TOML that loads back to the
// same configuration, as the README promises.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
  let loader = ConfigLoader(systemdIsRunning: false)
  guard let (config, _) = try? loader.apply(toml: text, file: "fuzz.conf", to: loader.defaults()) else { return 0 }
  let rendered = config.renderTOML()
  do {
    let (reloaded, _) = try loader.apply(toml: rendered, file: "rendered.conf", to: loader.defaults())
    if reloaded != config { fatalError("rendered configuration loads back different:\n\(rendered)") }
  } catch {
    fatalError("rendered configuration does not load: \(error)\n\(rendered)")
  }
  return 0
}

@_cdecl("fuzz_config_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
  runFuzzer(argc, argv) { data, size in fuzzConfig(data!, size) }
}
