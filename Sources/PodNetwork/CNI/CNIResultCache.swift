import Support

#if canImport(Glibc)
import Glibc
#endif

/// What ADD used and returned, kept so a later DEL or CHECK (after a daemon
/// restart, after the network directory changed) uses the same configuration
/// and capability arguments. The file format is libcni's ("cniCacheV1").
public struct CNICacheEntry: Sendable, Equatable {
  public var containerID: String
  public var ifName: String
  public var networkName: String
  public var netns: String
  public var cniArgs: [(String, String)]
  /// The capability arguments as given to ADD (all of them, not only those a
  /// plugin declared).
  public var capabilityArgs: JSONValue
  public var config: CNINetworkConfig
  public var result: CNIResult?

  public init(
    containerID: String, ifName: String, networkName: String, netns: String, cniArgs: [(String, String)],
    capabilityArgs: JSONValue, config: CNINetworkConfig, result: CNIResult?
  ) {
    self.containerID = containerID
    self.ifName = ifName
    self.networkName = networkName
    self.netns = netns
    self.cniArgs = cniArgs
    self.capabilityArgs = capabilityArgs
    self.config = config
    self.result = result
  }

  public static func == (lhs: CNICacheEntry, rhs: CNICacheEntry) -> Bool {
    lhs.json == rhs.json
  }

  var json: JSONValue {
    var members: [(String, JSONValue)] = [
      ("kind", .string("cniCacheV1")),
      ("containerId", .string(containerID)),
      // Go's encoding/json writes libcni's []byte config as base64.
      ("config", .string(Base64.encode(Array(config.bytes.utf8)))),
      ("ifName", .string(ifName)),
      ("networkName", .string(networkName)),
    ]
    if !netns.isEmpty { members.append(("netns", .string(netns))) }
    if !cniArgs.isEmpty { members.append(("cniArgs", .array(cniArgs.map { .array([.string($0.0), .string($0.1)]) }))) }
    if capabilityArgs.cniObject?.isEmpty == false { members.append(("capabilityArgs", capabilityArgs)) }
    if let result { members.append(("result", (try? CNIJSON.parse(result.rawJSON)) ?? .raw(result.rawJSON))) }
    return .object(members)
  }

  /// Reads a cache file's text. Public for the fuzz package (Fuzz/).
  public init(json text: String, file: String) throws(CNIError) {
    func bad(_ reason: String) -> CNIError { .system("unreadable CNI cache file \(file): \(reason)") }
    let value: JSONValue
    do {
      value = try CNIJSON.parse(text)
    } catch {
      throw bad(error.description)
    }
    guard value.cniMember("kind")?.cniString == "cniCacheV1" else { throw bad("kind is not cniCacheV1") }
    guard let containerID = value.cniMember("containerId")?.cniString,
      let ifName = value.cniMember("ifName")?.cniString,
      let networkName = value.cniMember("networkName")?.cniString
    else { throw bad("containerId, ifName or networkName missing") }
    let configText: String
    switch value.cniMember("config") {
    case .string(let encoded)?:
      guard let bytes = Base64.decode(encoded) else { throw bad("config is not base64") }
      configText = String(decoding: bytes, as: UTF8.self)
    case .object?:
      configText = value.cniMember("config")!.rendered()
    default:
      throw bad("no config")
    }
    self.config = try CNINetworkConfig(listJSON: configText, file: file)
    self.containerID = containerID
    self.ifName = ifName
    self.networkName = networkName
    self.netns = value.cniMember("netns")?.cniString ?? ""
    self.cniArgs = (value.cniMember("cniArgs")?.cniArray ?? []).compactMap { pair in
      guard let items = pair.cniArray, items.count == 2, let key = items[0].cniString, let value = items[1].cniString else { return nil }
      return (key, value)
    }
    self.capabilityArgs = value.cniMember("capabilityArgs") ?? .object([])
    if let result = value.cniMember("result"), result != .null {
      do {
        self.result = try CNIResult(value: result, rawJSON: result.rendered())
      } catch {
        throw bad("result: \(error.description)")
      }
    } else {
      self.result = nil
    }
  }
}

/// libcni's cache layout: `<dir>/results/<network>-<containerID>-<ifName>`.
public struct CNIResultCache: Sendable {
  /// libcni's default is /var/lib/cni.
  public let dir: String

  public init(dir: String) {
    self.dir = dir
  }

  public func path(networkName: String, containerID: String, ifName: String) -> String {
    "\(dir)/results/\(networkName)-\(containerID)-\(ifName)"
  }

  public func read(networkName: String, containerID: String, ifName: String) throws(CNIError) -> CNICacheEntry? {
    let file = path(networkName: networkName, containerID: containerID, ifName: ifName)
    guard Files.kind(of: file) == .file else { return nil }
    let text: String
    do {
      text = try Files.read(file)
    } catch {
      if error.code == ENOENT { return nil }
      throw .system("cannot read CNI cache file: \(error)")
    }
    return try CNICacheEntry(json: text, file: file)
  }

  /// Entries for one container and interface, whatever their network
  /// (names may contain "-", so the file's own fields decide).
  public func entries(containerID: String, ifName: String) -> [CNICacheEntry] {
    let suffix = "-\(containerID)-\(ifName)"
    let names = ((try? Files.list(dir + "/results")) ?? []).filter { $0.hasSuffix(suffix) }.sorted()
    return names.compactMap { name in
      guard let text = try? Files.read(dir + "/results/" + name),
        let entry = try? CNICacheEntry(json: text, file: dir + "/results/" + name),
        entry.containerID == containerID, entry.ifName == ifName,
        name == "\(entry.networkName)\(suffix)"
      else { return nil }
      return entry
    }
  }

  /// Every readable entry, of every pod (start-up reconciliation).
  public func allEntries() -> [CNICacheEntry] {
    let names = ((try? Files.list(dir + "/results")) ?? []).filter { !$0.hasSuffix(".tmp") }.sorted()
    return names.compactMap { name in
      guard let text = try? Files.read(dir + "/results/" + name) else { return nil }
      return try? CNICacheEntry(json: text, file: dir + "/results/" + name)
    }
  }

  /// Writes the entry atomically (a crash leaves the old file or the new one).
  public func write(_ entry: CNICacheEntry) throws(CNIError) {
    let file = path(networkName: entry.networkName, containerID: entry.containerID, ifName: entry.ifName)
    let temporary = file + ".tmp"
    do {
      try Files.makeDirectories(dir + "/results", mode: 0o700)
      try Files.write(temporary, entry.json.rendered(), mode: 0o600)
    } catch {
      unlink(temporary)
      throw .system("cannot write CNI cache file \(file): \(error)")
    }
    guard rename(temporary, file) == 0 else {
      let error = SystemError("rename", path: file)
      unlink(temporary)
      throw .system("cannot write CNI cache file: \(error)")
    }
  }

  public func remove(networkName: String, containerID: String, ifName: String) throws(CNIError) {
    let file = path(networkName: networkName, containerID: containerID, ifName: ifName)
    if unlink(file) != 0 && errno != ENOENT {
      throw .system("cannot remove CNI cache file: \(SystemError("unlink", path: file))")
    }
  }
}
