import Foundation
import Runtime
import Support

/// A temporary directory laid out like a cgroup hierarchy (plain files and
/// directories), removed by `remove()`.
struct CgroupFixtureTree {
  let root: String

  init() throws {
    root = try Files.makeTemporaryDirectory(prefix: "crio-cgfixture-")
  }

  /// Writes `contents` to `root/relative`, creating directories.
  func write(_ relative: String, _ contents: String) throws {
    let path = root + "/" + relative
    try FileManager.default.createDirectory(
      atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try Files.write(path, contents)
  }

  func makeDirectory(_ relative: String) throws {
    try FileManager.default.createDirectory(atPath: root + "/" + relative, withIntermediateDirectories: true)
  }

  func remove() { Files.removeTree(root) }
}

/// Polls `condition` until it holds or `timeout` passes (cgroup tests' own,
/// to stay independent of the container fixture's helpers).
func cgroupEventually(timeout: Duration = .seconds(20), _ condition: () throws -> Bool) async rethrows -> Bool {
  let deadline = ContinuousClock.now + timeout
  while ContinuousClock.now < deadline {
    if try condition() { return true }
    try? await Task.sleep(for: .milliseconds(20))
  }
  return try condition()
}
