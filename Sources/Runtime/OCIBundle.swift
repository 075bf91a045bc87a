import FoundationEssentials
import OCI
import Support

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A directory holding a container's `config.json` (an OCI bundle).
public struct OCIBundle: Sendable, Hashable {
  public let path: String

  public init(path: String) {
    self.path = path
  }

  public var configPath: String { path + "/config.json" }

  /// Creates the directory (0700, with parents) and writes `spec` into it.
  @discardableResult
  public static func create(at path: String, spec: Spec) throws(RuntimeError) -> OCIBundle {
    do {
      try Files.makeDirectories(path, mode: 0o700)
    } catch {
      throw .system(error, context: "creating bundle directory")
    }
    let bundle = OCIBundle(path: path)
    try bundle.writeConfig(spec)
    return bundle
  }

  /// Writes `config.json` atomically: a 0600 temporary file in the same
  /// directory, flushed, then renamed over the old one.
  public func writeConfig(_ spec: Spec) throws(RuntimeError) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    let bytes: [UInt8]
    do {
      bytes = Array(try encoder.encode(spec))
    } catch {
      throw .invalidSpec(path: configPath, reason: "\(error)")
    }
    let temporary = path + "/.config.json.\(getpid()).\(UInt32.random(in: 0...UInt32.max))"
    let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw .system(SystemError("open", path: temporary), context: "writing bundle config") }
    do throws(SystemError) {
      defer { close(fd) }
      fchmod(fd, 0o600)
      try Files.writeAll(fd, bytes, path: temporary)
      guard fsync(fd) == 0 else { throw SystemError("fsync", path: temporary) }
    } catch {
      unlink(temporary)
      throw .system(error, context: "writing bundle config")
    }
    guard rename(temporary, configPath) == 0 else {
      let error = SystemError("rename", path: configPath)
      unlink(temporary)
      throw .system(error, context: "writing bundle config")
    }
  }

  /// Reads `config.json` back.
  public func readConfig() throws(RuntimeError) -> Spec {
    let bytes: [UInt8]
    do {
      bytes = try Files.readBytes(configPath)
    } catch {
      throw .system(error, context: "reading bundle config")
    }
    do {
      return try JSONDecoder().decode(Spec.self, from: Data(bytes))
    } catch {
      throw .invalidSpec(path: configPath, reason: "\(error)")
    }
  }

  /// Removes the bundle directory and everything in it (never following
  /// symlinks). The caller unmounts any rootfs inside it first.
  public func remove() {
    Files.removeTree(path)
  }
}
