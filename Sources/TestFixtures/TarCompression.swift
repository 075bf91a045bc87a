#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Support

public struct TarCompressionError: Error, Sendable, CustomStringConvertible {
  public var description: String
}

/// gzip and zstd through the CLIs (Debian's gzip and zstd packages), so the
/// compressed layers are what real tools produce. `gzip -n` leaves the name
/// and time out of the header: the same tar always compresses the same.
public enum TarCompression {
  public static func gzip(_ bytes: [UInt8]) throws(TarCompressionError) -> [UInt8] {
    try filter(bytes, through: "/usr/bin/gzip", ["-n", "-c", "-6"])
  }

  public static func zstd(_ bytes: [UInt8]) throws(TarCompressionError) -> [UInt8] {
    try filter(bytes, through: "/usr/bin/zstd", ["-q", "-c", "-3"])
  }

  /// Runs `tool arguments input` with stdout to a file and reads it back.
  /// Blocks the calling thread for the tool's run (milliseconds for test
  /// layers).
  private static func filter(_ bytes: [UInt8], through tool: String, _ arguments: [String]) throws(TarCompressionError) -> [UInt8] {
    do throws(SystemError) {
      let directory = try Files.makeTemporaryDirectory(prefix: "tar-compress-")
      defer { Files.removeTree(directory) }
      let input = directory + "/input"
      let fd = open(input, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
      guard fd >= 0 else { throw SystemError("open", path: input) }
      defer { close(fd) }
      try Files.writeAll(fd, bytes, path: input)
      let pid = try Processes.spawn(tool, arguments + [input], stdout: directory + "/output", stderr: directory + "/errors")
      var status: Int32 = 0
      while waitpid(pid, &status, 0) < 0 {
        guard errno == EINTR else { throw SystemError("waitpid", path: tool) }
      }
      guard status == 0 else {
        let errors = (try? Files.read(directory + "/errors")) ?? ""
        throw SystemError(operation: "\(tool) exited with status \(status): \(errors)", path: nil, code: EIO)
      }
      return try Files.readBytes(directory + "/output")
    } catch {
      throw TarCompressionError(description: "\(tool): \(error)")
    }
  }
}
