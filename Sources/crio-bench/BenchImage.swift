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

  /// Pushes an image of `layers` gzip layers of `mibPerLayer` MiB of
  /// random bytes each (gzip cannot shrink them), different for each `seed`.
  static func pushRandom(
    to registry: RegistryServer, repository: String, tag: String = "1", layers: Int, mibPerLayer: Int, seed: UInt64 = 0
  ) async throws -> (image: PushedImage, bytes: Int) {
    var builders: [(bytes: [UInt8], mediaType: String, diffID: Digest)] = []
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ (seed &* 0x2545_F491_4F6C_DD1D)
    for index in 0..<layers {
      var tar = TarBuilder()
      var payload = [UInt8](repeating: 0, count: mibPerLayer << 20)
      for i in stride(from: 0, to: payload.count, by: 8) {
        // xorshift: cheap bytes gzip cannot shrink.
        state ^= state << 13; state ^= state >> 7; state ^= state << 17
        withUnsafeBytes(of: state) { raw in
          for j in 0..<min(8, payload.count - i) { payload[i + j] = raw[j] }
        }
      }
      tar.file("layer\(index)/blob", payload)
      builders.append((try tar.gzip(), MediaType.ociLayerGzip, tar.diffID))
    }
    let image = try await ImagePusher(host: registry.host).pushImage(
      repository: repository, tag: tag, layers: builders,
      config: ImageConfiguration(architecture: Platform.current.architecture, os: "linux", rootfs: .init(diffIDs: [])))
    return (image, builders.reduce(0) { $0 + $1.bytes.count })
  }
}
