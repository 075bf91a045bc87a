import Support

/// The network CRI-O installs when there is none (contrib/cni/
/// 10-crio-bridge.conflist): a `cni0` bridge that is the pods' gateway and
/// masquerades their traffic, host-local addresses from 10.85.0.0/16 with a
/// default route, and portmap for hostPort. Loopback needs no plugin here:
/// the namespace pinning helper brings `lo` up when it creates the network
/// namespace (Pinning.pinInThisProcess), as CRI-O's pinns does.
public enum CNIDefaultConfig {
  /// The file `crio` writes into `network_dir` when the directory has no configuration.
  public static let fileName = "10-crio-bridge.conflist"
  public static let networkName = "crio"
  public static let subnet = "10.85.0.0/16"

  /// The conflist text. `dataDir` sets host-local's allocation directory
  /// (nil: its default, /var/lib/cni/networks).
  public static func conflist(
    name: String = networkName, bridge: String = "cni0", subnet: String = subnet, dataDir: String? = nil,
    cniVersion: String = "1.0.0"
  ) -> String {
    var ipam: [(String, JSONValue)] = [
      ("type", .string("host-local")),
      ("routes", .array([.object([("dst", .string("0.0.0.0/0"))])])),
      ("ranges", .array([.array([.object([("subnet", .string(subnet))])])])),
    ]
    if let dataDir { ipam.append(("dataDir", .string(dataDir))) }
    let document = JSONValue.object([
      ("cniVersion", .string(cniVersion)),
      ("name", .string(name)),
      ("plugins", .array([
        .object([
          ("type", .string("bridge")),
          ("bridge", .string(bridge)),
          ("isGateway", .bool(true)),
          ("ipMasq", .bool(true)),
          ("hairpinMode", .bool(true)),
          ("ipam", .object(ipam)),
        ]),
        .object([
          ("type", .string("portmap")),
          ("capabilities", .object([("portMappings", .bool(true))])),
        ]),
      ])),
    ])
    return pretty(document) + "\n"
  }

  /// Writes the default network into `dir` unless the directory already has
  /// a configuration file (valid or not: an operator's broken file must be
  /// fixed, not shadowed). Returns the path written, or nil.
  @discardableResult
  public static func installIfMissing(dir: String, subnet: String = subnet) throws(CNIError) -> String? {
    let existing = ((try? Files.list(dir)) ?? []).filter { name in
      CNIConfigDirectory.extensions.contains { name.hasSuffix($0) } && !name.hasPrefix(".")
    }
    guard existing.isEmpty else { return nil }
    let path = (dir.hasSuffix("/") ? dir : dir + "/") + fileName
    do {
      try Files.makeDirectories(dir, mode: 0o755)
      try Files.write(path, conflist(subnet: subnet), mode: 0o644)
    } catch {
      throw .system("cannot install the default CNI network \(path): \(error)")
    }
    return path
  }

  /// Indented JSON for a file people read.
  static func pretty(_ value: JSONValue, indent: String = "") -> String {
    let inner = indent + "  "
    switch value {
    case .object(let members) where !members.isEmpty:
      return "{\n" + members.map { inner + Quoting.doubleQuoted($0.0) + ": " + pretty($0.1, indent: inner) }.joined(separator: ",\n")
        + "\n" + indent + "}"
    case .array(let elements) where !elements.isEmpty:
      return "[\n" + elements.map { inner + pretty($0, indent: inner) }.joined(separator: ",\n") + "\n" + indent + "]"
    default:
      return value.rendered()
    }
  }
}
