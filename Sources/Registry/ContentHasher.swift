import Crypto
import OCI

/// Hashes content as it streams past, with the algorithm of the digest it
/// must match.
struct ContentHasher {
  private enum State {
    case sha256(SHA256)
    case sha512(SHA512)
  }

  private var state: State

  /// The hasher for `digest`'s algorithm (OCI's Digest only admits sha256 and sha512).
  init(for digest: OCI.Digest?) {
    state = digest?.algorithm == "sha512" ? .sha512(SHA512()) : .sha256(SHA256())
  }

  mutating func update(_ bytes: UnsafeRawBufferPointer) {
    switch state {
    case .sha256(var hasher):
      hasher.update(bufferPointer: bytes)
      state = .sha256(hasher)
    case .sha512(var hasher):
      hasher.update(bufferPointer: bytes)
      state = .sha512(hasher)
    }
  }

  mutating func update(_ bytes: [UInt8]) {
    bytes.withUnsafeBytes { update($0) }
  }

  func finalize() -> OCI.Digest {
    switch state {
    case .sha256(let hasher):
      return OCI.Digest(sha256: hasher.finalize())
    case .sha512(let hasher):
      let hex = hasher.finalize().map { byte in
        let digits = String(byte, radix: 16)
        return byte < 16 ? "0" + digits : digits
      }.joined()
      // 128 lower-case hex digits always parse.
      return try! OCI.Digest(parsing: "sha512:" + hex)
    }
  }

  static func digest(of bytes: [UInt8], like expected: OCI.Digest?) -> OCI.Digest {
    var hasher = ContentHasher(for: expected)
    hasher.update(bytes)
    return hasher.finalize()
  }
}
