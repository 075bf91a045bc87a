import CRIAPI
import Logging
import OCI
import SpecInjection
import Support

/// What files on the host add to a built container spec, in CRI-O's order:
/// CDI devices (the request's CDI_devices and its `cdi.k8s.io/*`
/// annotations, resolved in `cdi_spec_dirs`) with its devices, then the OCI
/// hooks of `hooks_dir` whose conditions the container meets.
struct ContainerSpecInjections: Sendable {
  let hooks: HookRegistry
  let cdi: CDIRegistry
  let logger: Logger

  /// The CDI annotations' prefix; the value lists fully-qualified names.
  static let cdiAnnotationPrefix = "cdi.k8s.io/"

  /// `spec` with the CDI devices' edits and the matching hooks. Reads the
  /// directories when they changed: blocking work, off the cooperative pool.
  func apply(
    to spec: Spec, config: Runtime_V1_ContainerConfig, podAnnotations: [String: String]
  ) async throws(CRIError) -> Spec {
    let names = Self.cdiDeviceNames(config)
    let annotations = config.annotations.merging(podAnnotations) { _, pod in pod }
    let hasBindMounts = !config.mounts.isEmpty
    let (hooks, cdi, logger) = (self.hooks, self.cdi, self.logger)
    return try await Blocking.run { () throws(CRIError) -> Spec in
      var spec = spec
      if !names.isEmpty {
        do throws(CDIError) {
          let (edits, problems) = try cdi.edits(for: names)
          for problem in problems { logger.warning("CDI spec problem", metadata: ["problem": "\(problem)"]) }
          try edits.apply(to: &spec)
        } catch {
          switch error {
          case .invalidName, .unresolvable: throw .invalidArgument(error.description)
          case .hostDevice: throw .internal(error.description)
          }
        }
      }
      let (catalog, reread) = hooks.current()
      if reread {
        logger.debug("Read hooks", metadata: ["hooks_dir": "\(hooks.directories)", "hooks": "\(catalog.hooks.keys.sorted())"])
        for problem in catalog.problems {
          logger.error("Hook file left out", metadata: ["problem": "\(problem)"])
        }
      }
      do throws(HookError) {
        try catalog.apply(to: &spec, annotations: annotations, hasBindMounts: hasBindMounts)
      } catch {
        throw .internal(error.description)
      }
      return spec
    }
  }

  /// The request's CDI devices, then those of its annotations (sorted by
  /// key), each once. Names are checked when resolved.
  static func cdiDeviceNames(_ config: Runtime_V1_ContainerConfig) -> [String] {
    var names = config.cdiDevices.map(\.name)
    for key in config.annotations.keys.sorted() where key.hasPrefix(cdiAnnotationPrefix) {
      names += config.annotations[key]!.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    }
    var seen: Set<String> = []
    return names.filter { seen.insert($0).inserted }
  }
}
