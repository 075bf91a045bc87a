import Support

/// A plugin's success result (SPEC.md "Success"), read from any version:
/// 0.1.0/0.2.0 (`ip4`, `ip6`), 0.3.x/0.4.0 (`interfaces`, `ips` with
/// `version`) and 1.x (`ips` without `version`).
public struct CNIResult: Sendable, Equatable {
  public struct Interface: Sendable, Equatable {
    public var name: String
    public var mac: String
    /// The netns path for interfaces inside the pod, "" for host interfaces.
    public var sandbox: String
    public var mtu: Int?
  }

  public struct IPConfig: Sendable, Equatable {
    /// CIDR notation: "10.85.0.5/16".
    public var address: String
    public var gateway: String?
    /// Index into `interfaces`.
    public var interface: Int?

    /// The address without its prefix length.
    public var ip: String {
      address.split(separator: "/", maxSplits: 1).first.map(String.init) ?? address
    }

    public var isIPv6: Bool { address.contains(":") }
  }

  public struct Route: Sendable, Equatable {
    public var destination: String
    public var gateway: String?
  }

  public struct DNS: Sendable, Equatable {
    public var nameservers: [String] = []
    public var domain: String?
    public var search: [String] = []
    public var options: [String] = []
  }

  public var cniVersion: String
  public var interfaces: [Interface]
  public var ips: [IPConfig]
  public var routes: [Route]
  public var dns: DNS
  /// The result as the plugin printed it.
  public var rawJSON: String

  /// The pod's addresses, IPv4 first then IPv6, without prefix lengths:
  /// those on interfaces inside the sandbox (or on no named interface).
  public var podIPs: [String] {
    let inPod = ips.filter { config in
      guard let index = config.interface, interfaces.indices.contains(index) else { return true }
      return !interfaces[index].sandbox.isEmpty
    }
    return inPod.filter { !$0.isIPv6 }.map(\.ip) + inPod.filter(\.isIPv6).map(\.ip)
  }

  public init(json text: String) throws(CNIResultError) {
    let value: JSONValue
    do {
      value = try CNIJSON.parse(text)
    } catch {
      throw CNIResultError(error.description)
    }
    try self.init(value: value, rawJSON: text)
  }

  init(value: JSONValue, rawJSON: String) throws(CNIResultError) {
    guard value.cniObject != nil else { throw CNIResultError("not a JSON object") }
    let version = value.cniMember("cniVersion")?.cniString ?? "0.1.0"
    self.cniVersion = version
    self.rawJSON = rawJSON
    self.dns = try Self.dns(value.cniMember("dns"))
    if let parsed = CNIVersion(version), parsed < CNIVersion("0.3.0")! {
      // 0.1.0 / 0.2.0: one IPConfig per family, each with its own routes.
      var ips: [IPConfig] = []
      var routes: [Route] = []
      for family in ["ip4", "ip6"] {
        guard let config = value.cniMember(family), config != .null else { continue }
        guard let address = config.cniMember("ip")?.cniString else { throw CNIResultError("\(family) has no \"ip\"") }
        try Self.checkCIDR(address)
        ips.append(IPConfig(address: address, gateway: config.cniMember("gateway")?.cniString, interface: nil))
        routes += try Self.routes(config.cniMember("routes"))
      }
      self.interfaces = []
      self.ips = ips
      self.routes = routes
      return
    }
    var interfaces: [Interface] = []
    for (index, item) in (try Self.array(value.cniMember("interfaces"), "interfaces")).enumerated() {
      guard let name = item.cniMember("name")?.cniString else { throw CNIResultError("interface \(index) has no \"name\"") }
      interfaces.append(Interface(
        name: name, mac: item.cniMember("mac")?.cniString ?? "", sandbox: item.cniMember("sandbox")?.cniString ?? "",
        mtu: item.cniMember("mtu")?.cniInt))
    }
    var ips: [IPConfig] = []
    for (index, item) in (try Self.array(value.cniMember("ips"), "ips")).enumerated() {
      guard let address = item.cniMember("address")?.cniString else { throw CNIResultError("ips[\(index)] has no \"address\"") }
      try Self.checkCIDR(address)
      let interface = item.cniMember("interface")?.cniInt
      if let interface, !interfaces.indices.contains(interface) {
        throw CNIResultError("ips[\(index)] names interface \(interface), but there are \(interfaces.count)")
      }
      ips.append(IPConfig(address: address, gateway: item.cniMember("gateway")?.cniString, interface: interface))
    }
    self.interfaces = interfaces
    self.ips = ips
    self.routes = try Self.routes(value.cniMember("routes"))
  }

  private static func array(_ value: JSONValue?, _ key: String) throws(CNIResultError) -> [JSONValue] {
    guard let value, value != .null else { return [] }
    guard let array = value.cniArray else { throw CNIResultError("\"\(key)\" is not an array") }
    return array
  }

  private static func routes(_ value: JSONValue?) throws(CNIResultError) -> [Route] {
    var routes: [Route] = []
    for (index, item) in (try array(value, "routes")).enumerated() {
      guard let destination = item.cniMember("dst")?.cniString else { throw CNIResultError("routes[\(index)] has no \"dst\"") }
      routes.append(Route(destination: destination, gateway: item.cniMember("gw")?.cniString))
    }
    return routes
  }

  private static func dns(_ value: JSONValue?) throws(CNIResultError) -> DNS {
    guard let value, value != .null else { return DNS() }
    func strings(_ key: String) -> [String] { (value.cniMember(key)?.cniArray ?? []).compactMap(\.cniString) }
    return DNS(nameservers: strings("nameservers"), domain: value.cniMember("domain")?.cniString, search: strings("search"), options: strings("options"))
  }

  private static func checkCIDR(_ address: String) throws(CNIResultError) {
    let parts = address.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count == 2, let prefix = Int(parts[1]), prefix >= 0, prefix <= (parts[0].contains(":") ? 128 : 32),
      !parts[0].isEmpty
    else {
      throw CNIResultError("\(Quoting.doubleQuoted(address)) is not an address with a prefix length")
    }
  }
}

public struct CNIResultError: Error, Sendable, Equatable, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}
