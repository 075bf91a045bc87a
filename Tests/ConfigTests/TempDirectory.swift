import Foundation

/// A scratch directory removed when the test releases it, so tests never touch /etc/crio.
final class TempDirectory {
  let path: String

  init() throws {
    path = FileManager.default.temporaryDirectory
      .appendingPathComponent("crio-config-tests-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  }

  deinit {
    try? FileManager.default.removeItem(atPath: path)
  }

  func path(_ name: String) -> String {
    (path as NSString).appendingPathComponent(name)
  }

  /// Writes `text` to `name` (creating parent directories) and returns the full path.
  @discardableResult
  func write(_ name: String, _ text: String) throws -> String {
    let file = path(name)
    try FileManager.default.createDirectory(
      atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try text.write(toFile: file, atomically: true, encoding: .utf8)
    return file
  }

  func makeDirectory(_ name: String) throws -> String {
    let dir = path(name)
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
  }
}
