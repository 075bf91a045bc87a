import CRIAPI
import PodNetwork

/// The traffic shaping kubelet asks for through pod annotations
/// (`kubernetes.io/ingress-bandwidth`, `kubernetes.io/egress-bandwidth`,
/// Kubernetes quantities in bits per second), for CNI's `bandwidth`
/// capability, as CRI-O passes it: the rate, and a 4 GB burst.
enum BandwidthAnnotations {
  static let ingress = "kubernetes.io/ingress-bandwidth"
  static let egress = "kubernetes.io/egress-bandwidth"
  static let burst = Int(UInt32.max) * 8 - 1

  static func bandwidth(_ annotations: [String: String]) throws(CRIError) -> CNIBandwidth? {
    func rate(_ key: String) throws(CRIError) -> Int {
      guard let text = annotations[key] else { return 0 }
      guard let value = quantity(text), value >= 0 else {
        throw .invalidArgument("annotation \(key) \(String(reflecting: text)) is not a quantity such as \"10M\"")
      }
      return value
    }
    let ingressRate = try rate(ingress), egressRate = try rate(egress)
    guard ingressRate > 0 || egressRate > 0 else { return nil }
    return CNIBandwidth(
      ingressRate: ingressRate, ingressBurst: ingressRate > 0 ? burst : 0,
      egressRate: egressRate, egressBurst: egressRate > 0 ? burst : 0)
  }

  /// A Kubernetes quantity ("100k", "10M", "1Gi", "1.5G", "500m") as a
  /// whole number, rounded up as resource.Quantity does; nil if malformed.
  static func quantity(_ text: String) -> Int? {
    let suffixes: [(String, Double)] = [
      ("Ki", 0x1p10), ("Mi", 0x1p20), ("Gi", 0x1p30), ("Ti", 0x1p40), ("Pi", 0x1p50), ("Ei", 0x1p60),
      ("k", 1e3), ("M", 1e6), ("G", 1e9), ("T", 1e12), ("P", 1e15), ("E", 1e18), ("m", 1e-3),
    ]
    var number = Substring(text)
    var scale = 1.0
    for (suffix, factor) in suffixes where number.hasSuffix(suffix) {
      number = number.dropLast(suffix.count)
      scale = factor
      break
    }
    guard !number.isEmpty, number.allSatisfy({ $0.isNumber || $0 == "." }), number.filter({ $0 == "." }).count <= 1,
      let value = Double(number)
    else { return nil }
    let scaled = (value * scale).rounded(.up)
    return scaled < Double(Int.max) ? Int(scaled) : nil
  }
}
