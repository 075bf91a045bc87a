import Crypto
import FoundationEssentials

/// A content digest, `algorithm:hex`. Only sha256 (the registries' and the
/// spec's default) and sha512 are accepted, with lower-case hex of the right
/// length, so a digest taken from a manifest or a request is safe to use as a
/// file name.
public struct Digest: Hashable, Sendable, Comparable, CustomStringConvertible {
  public let algorithm: String
  public let hex: String

  public init(parsing text: String) throws(OCIError) {
    guard let colon = text.firstIndex(of: ":") else {
      throw .invalidDigest(text, reason: "expected algorithm:hex")
    }
    let algorithm = String(text[..<colon])
    let hex = String(text[text.index(after: colon)...])
    let length: Int
    switch algorithm {
    case "sha256": length = 64
    case "sha512": length = 128
    default: throw .invalidDigest(text, reason: "unsupported algorithm \"\(algorithm)\"")
    }
    guard hex.utf8.count == length, hex.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
      throw .invalidDigest(text, reason: "expected \(length) lower-case hex digits")
    }
    self.algorithm = algorithm
    self.hex = hex
  }

  /// The sha256 digest of `bytes`.
  public static func sha256<Bytes: DataProtocol>(of bytes: Bytes) -> Digest {
    Digest(sha256: SHA256.hash(data: bytes))
  }

  public init(sha256 hash: SHA256.Digest) {
    algorithm = "sha256"
    hex = hash.map { byte in
      let digits = String(byte, radix: 16)
      return byte < 16 ? "0" + digits : digits
    }.joined()
  }

  public var description: String { "\(algorithm):\(hex)" }

  /// The first 12 hex digits, as image and container tools abbreviate IDs.
  public var short: String { String(hex.prefix(12)) }

  public static func < (lhs: Digest, rhs: Digest) -> Bool { lhs.description < rhs.description }
}

extension Digest: Codable {
  public init(from decoder: any Decoder) throws {
    let text = try decoder.singleValueContainer().decode(String.self)
    do {
      try self.init(parsing: text)
    } catch {
      throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(description)
  }
}

/// The chain IDs of a layer stack (OCI image spec, "ChainID"): the identity of
/// a layer together with everything beneath it, so an unpacked layer can be
/// shared by every image whose stack starts the same way.
public func chainIDs(of diffIDs: [Digest]) -> [Digest] {
  var result: [Digest] = []
  for diffID in diffIDs {
    if let parent = result.last {
      result.append(.sha256(of: Array("\(parent) \(diffID)".utf8)))
    } else {
      result.append(diffID)
    }
  }
  return result
}
