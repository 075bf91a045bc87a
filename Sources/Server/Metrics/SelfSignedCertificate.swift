import Crypto
import FoundationEssentials
import Support
import SwiftASN1
import X509

#if canImport(Glibc)
import Glibc
#endif

/// What CRI-O does when neither `metrics_cert` nor `metrics_key` exists: a
/// self-signed pair for the host's name (and localhost, 127.0.0.1, for
/// local scrapes), valid for a year, the key readable by root alone.
enum SelfSignedCertificate {
  static func write(certificate certificatePath: String, key keyPath: String, now: Date = Date()) throws {
    let host = hostName()
    let key = P256.Signing.PrivateKey()
    let name = try DistinguishedName { CommonName(host) }
    let extensions = try Certificate.Extensions {
      Critical(BasicConstraints.notCertificateAuthority)
      Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
      try ExtendedKeyUsage([.serverAuth])
      SubjectAlternativeNames([.dnsName(host), .dnsName("localhost"), .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))])
    }
    let certificate = try Certificate(
      version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
      notValidBefore: now - 60, notValidAfter: now + 365 * 24 * 3600,
      issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions,
      issuerPrivateKey: .init(key))
    for path in [certificatePath, keyPath] {
      if let slash = path.lastIndex(of: "/"), slash != path.startIndex {
        try Files.makeDirectories(String(path[..<slash]), mode: 0o700)
      }
    }
    try Files.write(keyPath, key.pemRepresentation + "\n", mode: 0o600)
    try Files.write(certificatePath, try certificate.serializeAsPEM().pemString + "\n", mode: 0o600)
  }

  static func hostName() -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
    let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return name.isEmpty ? "localhost" : name
  }
}
