import OCI
import Support
import TestFixtures

/// The one-layer busybox image the benchmarks run: the static binary, the
/// applets they use, and the directories a container root needs.
enum BenchImage {
  /// Pushes it as `repository:1`; returns the layer (the runc floor unpacks it).
  @discardableResult
  static func push(to registry: RegistryServer, repository: String, applets: [String], cmd: [String]? = nil) async throws -> TarBuilder {
    var tar = TarBuilder()
    tar.directory("bin", mode: 0o755)
    tar.file("bin/busybox", try Files.readBytes("/bin/busybox"), mode: 0o755)
    for applet in applets { tar.symlink("bin/\(applet)", target: "busybox") }
    for directory in ["proc", "sys", "dev", "etc", "tmp"] { tar.directory(directory, mode: 0o755) }
    var defaults = ContainerDefaults()
    defaults.cmd = cmd
    _ = try await ImagePusher(host: registry.host).pushImage(
      repository: repository, tag: "1", layers: [(try tar.gzip(), MediaType.ociLayerGzip, tar.diffID)],
      config: ImageConfiguration(architecture: Platform.current.architecture, os: "linux", config: defaults, rootfs: .init(diffIDs: [])))
    return tar
  }
}
