import PodNetwork
import Testing

@testable import Server

@Suite struct BandwidthAnnotationTests {
  @Test(arguments: [
    ("10M", 10_000_000), ("100k", 100_000), ("1Gi", 1 << 30), ("1.5G", 1_500_000_000), ("500", 500), ("1500m", 2),
  ])
  func quantitiesParse(text: String, value: Int) {
    #expect(BandwidthAnnotations.quantity(text) == value)
  }

  @Test(arguments: ["", "M", "10X", "1.2.3", "-5", "ten"])
  func malformedQuantitiesAreRefused(text: String) {
    #expect(BandwidthAnnotations.quantity(text) == nil)
  }

  @Test func annotationsBecomeTheBandwidthCapability() throws {
    #expect(try BandwidthAnnotations.bandwidth([:]) == nil)
    let shaped = try BandwidthAnnotations.bandwidth(["kubernetes.io/ingress-bandwidth": "1M"])
    #expect(shaped == CNIBandwidth(ingressRate: 1_000_000, ingressBurst: BandwidthAnnotations.burst))
    #expect(throws: CRIError.self) { try BandwidthAnnotations.bandwidth(["kubernetes.io/egress-bandwidth": "fast"]) }
  }
}
