import FoundationEssentials
import FuzzSupport
import Storage

#if canImport(Glibc)
import Glibc
#endif

// A layer blob unpacked as LayerStore does, into a scratch directory that is
// removed after each input. The first byte picks the form: odd wraps the rest
// in gzip (so mutations of a plain tar still pass through the gzip reader),
// even takes the rest as it is (a tar, or gzip/zstd bytes, told from their
// magic as a pull does).
//
// The unpacker must never write outside its root. The scratch directory
// holds, beside the root, the blob and a sentinel file with one link and
// known contents (a hard link or a write through a symlink would change
// it); the process's working directory is where a relative path that
// escaped would land. After each input all of them must be as they were.
// (The working directory is not changed: libFuzzer's corpus and artifact
// paths may be relative to it.)

/// The scratch directory, made once per process.
nonisolated(unsafe) var scratch: String?
/// What the working directory held at the start.
nonisolated(unsafe) var workingDirectory: Set<String> = []
let sentinelContents: [UInt8] = Array("sentinel\n".utf8)

func makeScratch() -> String {
  var template = Array("/tmp/crio-fuzz-unpack-XXXXXX".utf8CString)
  guard let made = mkdtemp(&template) else { fatalError("mkdtemp failed") }
  let base = String(cString: made)
  write(sentinelContents, to: base + "/sentinel")
  workingDirectory = entries(".")
  // libFuzzer ends the process with exit(): take the scratch directory along.
  atexit {
    if let scratch { try? FileManager.default.removeItem(atPath: scratch) }
  }
  return base
}

func write(_ bytes: [UInt8], to path: String) {
  let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
  guard fd >= 0 else { fatalError("cannot write \(path)") }
  let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
  close(fd)
  guard written == bytes.count else { fatalError("short write to \(path)") }
}

func entries(_ path: String) -> Set<String> {
  Set((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [])
}

func checkOutside(_ base: String) {
  let seen = entries(base)
  guard seen == ["sentinel", "root", "blob"] else { violated("the scratch directory now holds \(seen.sorted())") }
  let current = entries(".")
  guard current == workingDirectory else {
    violated("the working directory changed: \(current.symmetricDifference(workingDirectory).sorted())")
  }
  var info = stat()
  guard lstat(base + "/sentinel", &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_nlink == 1,
    info.st_size == sentinelContents.count
  else { violated("the sentinel file was linked to or replaced") }
  guard let contents = FileManager.default.contents(atPath: base + "/sentinel"), Array(contents) == sentinelContents else {
    violated("the sentinel file was written")
  }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzUnpack(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  guard size > 0 else { return 0 }
  let base = scratch ?? makeScratch()
  scratch = base
  let body = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
  write(data[0] & 1 == 1 ? gzipStored(body) : body, to: base + "/blob")
  guard mkdir(base + "/root", 0o755) == 0 else { fatalError("mkdir \(base)/root failed") }
  _ = try? LayerStore.unpack(blob: base + "/blob", into: base + "/root")
  checkOutside(base)
  do {
    try FileManager.default.removeItem(atPath: base + "/root")
  } catch {
    fatalError("cannot remove the unpacked tree: \(error)")
  }
  unlink(base + "/blob")
  return 0
}

@_cdecl("fuzz_unpack_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
  runFuzzer(argc, argv) { data, size in fuzzUnpack(data!, size) }
}
