import Support

/// The pod a network is set up for: CNI_CONTAINERID is the sandbox ID, and
/// the Kubernetes names go into CNI_ARGS as ocicni sends them.
public struct CNIPodInfo: Sendable, Equatable {
  public var namespace: String
  public var name: String
  /// The pod sandbox ID (CNI_CONTAINERID and K8S_POD_INFRA_CONTAINER_ID).
  public var id: String
  public var uid: String
  /// The interface created in the pod (CNI_IFNAME).
  public var ifName: String

  public init(namespace: String, name: String, id: String, uid: String, ifName: String = "eth0") {
    self.namespace = namespace
    self.name = name
    self.id = id
    self.uid = uid
    self.ifName = ifName
  }

  /// CNI_ARGS pairs, in ocicni's order.
  public var cniArgs: [(String, String)] {
    [
      ("IgnoreUnknown", "1"),
      ("K8S_POD_NAMESPACE", namespace),
      ("K8S_POD_NAME", name),
      ("K8S_POD_INFRA_CONTAINER_ID", id),
      ("K8S_POD_UID", uid),
    ]
  }
}

/// A port of the pod published on the host (`portMappings` capability).
public struct CNIPortMapping: Sendable, Equatable {
  public var hostPort: Int
  public var containerPort: Int
  /// "tcp", "udp" or "sctp" (lower case, as the portmap plugin expects).
  public var `protocol`: String
  /// "" for every host address.
  public var hostIP: String

  public init(hostPort: Int, containerPort: Int, protocol: String = "tcp", hostIP: String = "") {
    self.hostPort = hostPort
    self.containerPort = containerPort
    self.protocol = `protocol`.lowercased()
    self.hostIP = hostIP
  }
}

/// Traffic shaping (`bandwidth` capability): rates in bits per second,
/// bursts in bits, as the bandwidth plugin reads them.
public struct CNIBandwidth: Sendable, Equatable {
  public var ingressRate: Int
  public var ingressBurst: Int
  public var egressRate: Int
  public var egressBurst: Int

  public init(ingressRate: Int = 0, ingressBurst: Int = 0, egressRate: Int = 0, egressBurst: Int = 0) {
    self.ingressRate = ingressRate
    self.ingressBurst = ingressBurst
    self.egressRate = egressRate
    self.egressBurst = egressBurst
  }
}

/// One range of the `ipRanges` capability (host-local's `ranges` form).
public struct CNIIPRange: Sendable, Equatable {
  public var subnet: String
  public var rangeStart: String?
  public var rangeEnd: String?
  public var gateway: String?

  public init(subnet: String, rangeStart: String? = nil, rangeEnd: String? = nil, gateway: String? = nil) {
    self.subnet = subnet
    self.rangeStart = rangeStart
    self.rangeEnd = rangeEnd
    self.gateway = gateway
  }
}

/// Runtime configuration offered to plugins (SPEC.md "Deprecation of
/// runtimeConfig" / CONVENTIONS.md): each plugin receives, in its
/// `runtimeConfig`, only the keys it declares in `capabilities`.
public struct CNICapabilityArgs: Sendable, Equatable {
  public var portMappings: [CNIPortMapping]
  public var bandwidth: CNIBandwidth?
  /// From the pod CIDR: `[[{"subnet": cidr}]]`.
  public var ipRanges: [[CNIIPRange]]
  /// The pod's cgroup parent (`cgroupPath` capability).
  public var cgroupPath: String?
  /// Other capabilities, passed as given.
  public var extra: [(String, JSONValue)]

  public init(
    portMappings: [CNIPortMapping] = [], bandwidth: CNIBandwidth? = nil, ipRanges: [[CNIIPRange]] = [],
    cgroupPath: String? = nil, extra: [(String, JSONValue)] = []
  ) {
    self.portMappings = portMappings
    self.bandwidth = bandwidth
    self.ipRanges = ipRanges
    self.cgroupPath = cgroupPath
    self.extra = extra
  }

  /// `ipRanges` for a pod CIDR such as "10.85.1.0/24" (one range set per CIDR).
  public static func ipRanges(podCIDRs: [String]) -> [[CNIIPRange]] {
    podCIDRs.filter { !$0.isEmpty }.map { [CNIIPRange(subnet: $0)] }
  }

  public static func == (lhs: CNICapabilityArgs, rhs: CNICapabilityArgs) -> Bool {
    lhs.json == rhs.json
  }

  /// The capability arguments as a JSON object (empty ones left out), as
  /// libcni keeps them in its cache.
  public var json: JSONValue {
    var members: [(String, JSONValue)] = []
    if !portMappings.isEmpty {
      members.append(("portMappings", .array(portMappings.map { mapping in
        var fields: [(String, JSONValue)] = [
          ("hostPort", .int(mapping.hostPort)), ("containerPort", .int(mapping.containerPort)),
          ("protocol", .string(mapping.protocol)),
        ]
        if !mapping.hostIP.isEmpty { fields.append(("hostIP", .string(mapping.hostIP))) }
        return .object(fields)
      })))
    }
    if let bandwidth {
      members.append(("bandwidth", .object([
        ("ingressRate", .int(bandwidth.ingressRate)), ("ingressBurst", .int(bandwidth.ingressBurst)),
        ("egressRate", .int(bandwidth.egressRate)), ("egressBurst", .int(bandwidth.egressBurst)),
      ])))
    }
    if !ipRanges.isEmpty {
      members.append(("ipRanges", .array(ipRanges.map { set in
        .array(set.map { range in
          var fields: [(String, JSONValue)] = [("subnet", .string(range.subnet))]
          if let start = range.rangeStart { fields.append(("rangeStart", .string(start))) }
          if let end = range.rangeEnd { fields.append(("rangeEnd", .string(end))) }
          if let gateway = range.gateway { fields.append(("gateway", .string(gateway))) }
          return .object(fields)
        })
      })))
    }
    if let cgroupPath { members.append(("cgroupPath", .string(cgroupPath))) }
    for (key, value) in extra where !members.contains(where: { $0.0 == key }) {
      members.append((key, value))
    }
    return .object(members)
  }
}
