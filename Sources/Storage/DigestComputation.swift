import Crypto
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import OCI
import Support

/// Hashing with the algorithm a digest names: Digest.sha256(of:) covers the
/// common case, but a manifest may name sha512 blobs.
enum DigestComputation {
  /// The digest of `bytes` with `digest`'s algorithm.
  static func digest(of bytes: [UInt8], like digest: OCI.Digest) -> OCI.Digest {
    switch digest.algorithm {
    case "sha512": return make("sha512", SHA512.hash(data: bytes))
    default: return .sha256(of: bytes)
    }
  }

  /// The digest of a file's contents with `algorithm`, read in chunks so a
  /// large layer is never held in memory.
  static func digest(ofFile path: String, algorithm: String) throws(StorageError) -> OCI.Digest {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else {
      throw errno == ENOENT ? .notFound(path) : .io(SystemError("open", path: path))
    }
    let file = OwnedDescriptor(fd)
    var sha256 = SHA256()
    var sha512 = SHA512()
    var chunk = [UInt8](repeating: 0, count: 1 << 17)
    while true {
      let n = retryingOnEINTR { chunk.withUnsafeMutableBytes { read(file.fd, $0.baseAddress, $0.count) } }
      guard n >= 0 else { throw .io(SystemError("read", path: path)) }
      if n == 0 { break }
      chunk.withUnsafeBytes { raw in
        let slice = UnsafeRawBufferPointer(rebasing: raw[..<n])
        if algorithm == "sha512" { sha512.update(bufferPointer: slice) } else { sha256.update(bufferPointer: slice) }
      }
    }
    return algorithm == "sha512" ? make("sha512", sha512.finalize()) : OCI.Digest(sha256: sha256.finalize())
  }

  private static func make<D: Sequence>(_ algorithm: String, _ hash: D) -> OCI.Digest where D.Element == UInt8 {
    var hex = ""
    for byte in hash {
      if byte < 16 { hex += "0" }
      hex += String(byte, radix: 16)
    }
    // Lower-case hex of the algorithm's length always parses.
    return try! OCI.Digest(parsing: "\(algorithm):\(hex)")
  }
}
