/// Runtime-wide state that CRI calls change: what kubelet pushed with
/// UpdateRuntimeConfig and whether the pod network is usable. Pods and
/// containers get their own stores as those capabilities arrive.
public actor RuntimeState {
  public private(set) var podCIDR: String = ""

  public init() {}

  public func setPodCIDR(_ cidr: String) {
    podCIDR = cidr
  }
}

public enum NetworkReadiness: Sendable, Equatable {
  case ready
  case notReady(reason: String, message: String)
}
