#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CRIAPI
import GRPCCore
import Logging

extension CRIRuntimeService {
  public func updateRuntimeConfig(
    request: Runtime_V1_UpdateRuntimeConfigRequest,
    context: GRPCCore.ServerContext
  ) async throws -> Runtime_V1_UpdateRuntimeConfigResponse {
    let cidr = request.runtimeConfig.networkConfig.podCidr
    // kubelet sends the config repeatedly; an empty CIDR means "no change".
    if !cidr.isEmpty {
      guard PodCIDR.isValid(cidr) else {
        throw CRIError.invalidArgument("pod CIDR \"\(cidr)\" is not an IPv4 or IPv6 CIDR (e.g. 10.85.0.0/16); a comma separates dual-stack ranges")
      }
      let previous = await daemon.state.podCIDR
      if previous != cidr {
        await daemon.state.setPodCIDR(cidr)
        daemon.logger.info("Updated pod CIDR", metadata: ["cidr": "\(cidr)", "previous": "\(previous)"])
      }
    }
    return Runtime_V1_UpdateRuntimeConfigResponse()
  }
}

/// Pod CIDR syntax: one or two (dual-stack, comma-separated) address/prefix ranges.
enum PodCIDR {
  static func isValid(_ value: String) -> Bool {
    let ranges = value.split(separator: ",", omittingEmptySubsequences: false)
    guard (1...2).contains(ranges.count) else { return false }
    return ranges.allSatisfy { range in
      let parts = range.split(separator: "/", omittingEmptySubsequences: false)
      guard parts.count == 2, parts[1].allSatisfy(\.isNumber), let prefix = Int(parts[1]) else { return false }
      var address = in6_addr()
      if inet_pton(AF_INET, String(parts[0]), &address) == 1 { return (0...32).contains(prefix) }
      if inet_pton(AF_INET6, String(parts[0]), &address) == 1 { return (0...128).contains(prefix) }
      return false
    }
  }
}
