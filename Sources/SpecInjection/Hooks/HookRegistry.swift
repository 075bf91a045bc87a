#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import OCI
import Support
import Synchronization

/// The OCI hooks of `hooks_dir`, read again when a directory's contents
/// change. As containers/common's hooks.Manager: every `*.json` file of
/// each directory is a hook, a file of a later directory replaces the
/// same-named file of an earlier one, missing directories hold nothing,
/// and matching hooks are added in the order of their file names
/// (case-insensitively), each to its stages.
public final class HookRegistry: Sendable {
  public let directories: [String]
  private let cache = Mutex<Cache?>(nil)

  struct Cache {
    var fingerprints: [DirectoryFingerprint]
    var catalog: Catalog
  }

  /// The hooks read, by file name, and the files left out with why.
  public struct Catalog: Sendable, Equatable {
    public var hooks: [String: HookFile] = [:]
    /// Path and reason of each file that could not be read.
    public var problems: [HookError] = []
  }

  /// Reads the directories once. As CRI-O at start-up (hooks.New), a file
  /// that cannot be read stops it: `.invalidFile` names the first.
  public init(directories: [String]) throws(HookError) {
    self.directories = directories
    let catalog = current().catalog
    if let problem = catalog.problems.first { throw problem }
  }

  /// The catalog as the directories hold it now; `reread` tells whether it
  /// was read again (so its problems are new and worth a log line).
  public func current() -> (catalog: Catalog, reread: Bool) {
    let fingerprints = DirectoryFingerprint.of(directories)
    return cache.withLock { cache in
      if let cache, cache.fingerprints == fingerprints { return (cache.catalog, false) }
      let catalog = Self.scan(directories)
      cache = Cache(fingerprints: fingerprints, catalog: catalog)
      return (catalog, true)
    }
  }

  static func scan(_ directories: [String]) -> Catalog {
    var catalog = Catalog()
    for directory in directories {
      guard let names = try? Files.list(directory) else { continue }
      for name in names.sorted() where name.hasSuffix(".json") {
        let path = directory + "/" + name
        let bytes: [UInt8]
        do {
          bytes = try Files.readBytes(path)
        } catch {
          // Gone since it was listed: as containers/common, not a problem.
          if error.code == ENOENT { continue }
          catalog.problems.append(.invalidFile(path, reason: error.description))
          continue
        }
        do {
          catalog.hooks[name] = try HookFile(parsing: bytes)
        } catch {
          catalog.problems.append(.invalidFile(path, reason: error.description))
        }
      }
    }
    return catalog
  }
}

extension HookRegistry.Catalog {
  /// Adds the hooks whose conditions hold to `spec.hooks`. `annotations`
  /// are the container's and its pod's; `hasBindMounts` whether the
  /// request has mounts (as CRI-O asks).
  public func apply(to spec: inout Spec, annotations: [String: String], hasBindMounts: Bool) throws(HookError) {
    let ordered = hooks.sorted { $0.key.lowercased() < $1.key.lowercased() }
    for (name, file) in ordered {
      let matched: Bool
      do {
        matched = try file.when.matches(args: spec.process?.args, annotations: annotations, hasBindMounts: hasBindMounts)
      } catch {
        throw .matching(name, reason: error.description)
      }
      guard matched else { continue }
      var all = spec.hooks ?? Spec.Hooks()
      for stage in file.stages { all[stage] = (all[stage] ?? []) + [file.hook] }
      spec.hooks = all
    }
  }
}
