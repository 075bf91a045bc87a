import Support
import Synchronization

/// The CDI devices of `cdi_spec_dirs`, read again when a directory's
/// contents change. As the CDI library: only `*.json` and `*.yaml` files
/// directly in each directory count; a spec that cannot be read is left
/// out (its problem kept for error messages); a device defined in a later
/// directory replaces one of an earlier; one defined twice in the same
/// directory is defined nowhere.
public final class CDIRegistry: Sendable {
  private let state: Mutex<State>

  struct State {
    var directories: [String]
    var cache: Cache?
  }

  struct Cache {
    var fingerprints: [DirectoryFingerprint]
    var catalog: Catalog
  }

  /// The devices found, and what could not be read.
  public struct Catalog: Sendable {
    public var specs: [(path: String, spec: CDISpec)] = []
    /// Qualified name → (spec index, device index).
    var devices: [String: (spec: Int, device: Int)] = [:]
    public var problems: [String] = []

    public var deviceNames: [String] { devices.keys.sorted() }
  }

  public init(directories: [String]) {
    state = Mutex(State(directories: directories))
  }

  public var directories: [String] { state.withLock { $0.directories } }

  /// Other directories from now on (CRI-O reloads `cdi_spec_dirs` on SIGHUP).
  public func setDirectories(_ directories: [String]) {
    state.withLock { $0 = State(directories: directories) }
  }

  /// The edits the named devices make, each spec's own edits once, before
  /// those of its first device, in request order (CDI's InjectDevices).
  /// Throws `.invalidName` for a malformed name and `.unresolvable` for
  /// names no spec defines. Also returns the problems of the specs that
  /// could not be read (the caller logs them, as CRI-O warns of them).
  public func edits(for names: [String]) throws(CDIError) -> (edits: CDIContainerEdits, problems: [String]) {
    let parsed = try names.map { name throws(CDIError) in try CDIDeviceName(parsing: name) }
    let catalog = current()
    var edits = CDIContainerEdits()
    var unresolved: [String] = []
    var specsSeen: Set<Int> = []
    for name in parsed {
      guard let (spec, device) = catalog.devices[name.description] else {
        unresolved.append(name.description)
        continue
      }
      if specsSeen.insert(spec).inserted { edits = edits.appending(catalog.specs[spec].spec.containerEdits) }
      edits = edits.appending(catalog.specs[spec].spec.devices[device].edits)
    }
    guard unresolved.isEmpty else { throw .unresolvable(unresolved, problems: catalog.problems) }
    return (edits, catalog.problems)
  }

  /// The catalog as the directories hold it now.
  public func current() -> Catalog {
    state.withLock { state in
      let fingerprints = DirectoryFingerprint.of(state.directories)
      if let cache = state.cache, cache.fingerprints == fingerprints { return cache.catalog }
      let catalog = Self.scan(state.directories)
      state.cache = Cache(fingerprints: fingerprints, catalog: catalog)
      return catalog
    }
  }

  static func scan(_ directories: [String]) -> Catalog {
    var catalog = Catalog()
    var priorities: [String: Int] = [:]
    var conflicts: Set<String> = []
    for (priority, directory) in directories.enumerated() {
      guard let names = try? Files.list(directory) else { continue }
      for name in names.sorted() where name.hasSuffix(".json") || name.hasSuffix(".yaml") {
        let path = directory + "/" + name
        guard Files.kind(of: path) == .file else { continue }
        let spec: CDISpec
        do {
          spec = try CDISpec(parsing: try Files.readBytes(path))
        } catch {
          catalog.problems.append("\(path): \(error)")
          continue
        }
        let index = catalog.specs.count
        catalog.specs.append((path, spec))
        for (deviceIndex, device) in spec.devices.enumerated() {
          let qualified = CDIDeviceName(vendor: spec.vendor, deviceClass: spec.deviceClass, name: device.name).description
          if let earlier = priorities[qualified], earlier == priority {
            let other = catalog.devices[qualified].map { catalog.specs[$0.spec].path } ?? "?"
            catalog.problems.append("device \(qualified) is defined by both \(other) and \(path)")
            conflicts.insert(qualified)
            continue
          }
          priorities[qualified] = priority
          catalog.devices[qualified] = (index, deviceIndex)
          conflicts.remove(qualified)
        }
      }
    }
    for name in conflicts { catalog.devices[name] = nil }
    return catalog
  }
}
