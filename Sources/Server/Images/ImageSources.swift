import Config
import Logging
import Registry
import Support
import Synchronization

/// Where pulls look and what they may take: registries.conf (with its
/// drop-ins) and the signature policies. Read at start; SIGHUP replaces them
/// (`reload`), `auto_reload_registries` re-reads registries.conf when its
/// files changed, and `signature_policy_dir` gives a pod's namespace its own
/// policy, read at each pull as CRI-O does.
final class ImageSources: Sendable {
  private struct State: Sendable {
    var registries: RegistriesConf
    /// The registries files' change times when they were read, for `auto_reload_registries`.
    var registriesStamp: RegistriesStamp
    var policy: SignaturePolicy
    var settings: ImageConfig
  }

  private let state: Mutex<State>
  private let logger: Logger

  init(config: ImageConfig, logger: Logger) throws {
    self.logger = logger
    state = Mutex(try Self.read(config, logger: logger))
  }

  /// registries.conf as it now stands: with `auto_reload_registries`, read
  /// again when one of its files changed since (a stat per file, no watcher).
  var registries: RegistriesConf {
    let (current, settings, stamp) = state.withLock { ($0.registries, $0.settings, $0.registriesStamp) }
    guard settings.autoReloadRegistries else { return current }
    let now = Self.stamp(settings)
    guard now != stamp else { return current }
    do {
      let fresh = try RegistriesConf.load(path: settings.registriesConf, dropInDir: settings.registriesConfDir)
      state.withLock { $0.registries = fresh; $0.registriesStamp = now }
      logger.info("Reloaded registries.conf after a change", metadata: ["file": "\(settings.registriesConf)"])
      return fresh
    } catch {
      // A half-written file keeps the last good configuration until it is whole.
      logger.error("Changed registries.conf is invalid; keeping the previous one", metadata: ["error": "\(error)"])
      state.withLock { $0.registriesStamp = now }
      return current
    }
  }

  /// The policy for a pull into a pod of `namespace`: `<signature_policy_dir>/<namespace>.json`
  /// when it exists, else the global one.
  func policy(namespace: String?) throws(CRIError) -> SignaturePolicy {
    let (global, directory) = state.withLock { ($0.policy, $0.settings.signaturePolicyDir) }
    guard let namespace, !namespace.isEmpty, !directory.isEmpty else { return global }
    // Kubernetes namespaces are DNS labels; anything else must not name a file.
    guard namespace.utf8.count <= 63,
      namespace.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" })
    else {
      throw .invalidArgument("sandbox_config.metadata.namespace \(Quoting.doubleQuoted(namespace)) is not a namespace name")
    }
    let path = directory + "/" + namespace + ".json"
    guard Files.kind(of: path) != .missing else { return global }
    do {
      return try SignaturePolicy.load(path: path)
    } catch {
      throw .failedPrecondition("the signature policy of namespace \(namespace) (\(path)) cannot be used: \(error)")
    }
  }

  /// SIGHUP: the new registries and policy, or nothing changed when either is invalid.
  func reload(_ config: ImageConfig) throws {
    let fresh = try Self.read(config, logger: logger)
    state.withLock { $0 = fresh }
  }

  private static func read(_ config: ImageConfig, logger: Logger) throws -> State {
    let registries = try RegistriesConf.load(path: config.registriesConf, dropInDir: config.registriesConfDir)
    let policyPath = config.signaturePolicy.isEmpty ? "/etc/containers/policy.json" : config.signaturePolicy
    let policy = try loadPolicy(path: policyPath, explicit: !config.signaturePolicy.isEmpty, logger: logger)
    return State(registries: registries, registriesStamp: stamp(config), policy: policy, settings: config)
  }

  /// CRI-O refuses to start without a policy; a node without
  /// /etc/containers/policy.json (no containers-common package) is common,
  /// so the default path being absent means "accept anything" with a warning,
  /// while an explicitly configured file must exist.
  private static func loadPolicy(path: String, explicit: Bool, logger: Logger) throws -> SignaturePolicy {
    do {
      return try SignaturePolicy.load(path: path)
    } catch {
      guard !explicit, Files.kind(of: path) == .missing else { throw error }
      logger.warning("No signature policy; accepting any image", metadata: ["policy": "\(path)"])
      return .acceptAnything
    }
  }

  /// registries.conf's and its drop-in directory's fingerprints.
  private struct RegistriesStamp: Equatable, Sendable {
    var file: DirectoryFingerprint.Entry
    var dropIns: DirectoryFingerprint
  }

  private static func stamp(_ config: ImageConfig) -> RegistriesStamp {
    RegistriesStamp(
      file: DirectoryFingerprint.Entry(path: config.registriesConf, name: config.registriesConf),
      dropIns: DirectoryFingerprint(config.registriesConfDir))
  }
}
