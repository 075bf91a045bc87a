#if canImport(Glibc)
import Glibc
#endif
import OCI
import Storage
import Support
import TestFixtures
import Testing

/// A temporary directory holding a storage root and whatever a test puts
/// beside it (blobs to unpack, sentinel locations outside the root), removed
/// when the test drops it.
final class Workspace {
  let path: String
  let root: String
  let layers: LayerStore
  let blobs: BlobStore
  private var blobCount = 0

  init() throws {
    path = try Files.makeTemporaryDirectory(prefix: "storage-test-")
    root = path + "/store"
    layers = try LayerStore(root: root)
    blobs = try BlobStore(root: root)
  }

  deinit {
    // The store's own removal first: it walks names as bytes, where
    // Files.removeTree (String paths) cannot delete a name that is not UTF-8.
    for chainID in layers.list() {
      try? layers.remove(chainID: chainID)
    }
    blobs.cleanUpIncomplete()
    Files.removeTree(path)
  }

  /// Writes bytes to a fresh file beside the store and returns its path.
  func file(_ bytes: [UInt8]) throws -> String {
    blobCount += 1
    let file = "\(path)/input-\(blobCount)"
    let fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw SystemError("open", path: file) }
    defer { close(fd) }
    try Files.writeAll(fd, bytes, path: file)
    return file
  }

  /// Unpacks `tar` (compressed as asked) as a bottom layer; the diffID
  /// expected is the tar's own unless given.
  @discardableResult
  func unpack(_ tar: TarBuilder, compression: LayerCompression = .none, expecting diffID: Digest? = nil) throws -> UnpackedLayer {
    let bytes: [UInt8]
    switch compression {
    case .none: bytes = tar.bytes
    case .gzip: bytes = try tar.gzip()
    case .zstd: bytes = try tar.zstd()
    }
    let blob = try file(bytes)
    let expected = diffID ?? tar.diffID
    return try layers.unpack(blob: blob, compression: compression, expectedDiffID: expected, chainID: tar.diffID)
  }

  /// The StorageError `body` throws, recording an issue when it succeeds.
  func failure(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> StorageError? {
    do {
      try body()
      Issue.record("expected a StorageError, but it succeeded", sourceLocation: sourceLocation)
      return nil
    } catch let error as StorageError {
      return error
    } catch {
      Issue.record("expected a StorageError, got \(error)", sourceLocation: sourceLocation)
      return nil
    }
  }

  /// Names in the store's layers/ and tmp/ directories: both must be empty
  /// after a failed unpack.
  var leftovers: [String] {
    ((try? Files.list(root + "/layers")) ?? []).map { "layers/" + $0 } + ((try? Files.list(root + "/tmp")) ?? []).map { "tmp/" + $0 }
  }
}

/// lstat, or nil when nothing is there.
func status(_ path: String) -> stat? {
  var info = stat()
  return lstat(path, &info) == 0 ? info : nil
}

func exists(_ path: String) -> Bool { status(path) != nil }

func fileType(_ path: String) -> mode_t? { status(path).map { $0.st_mode & S_IFMT } }

func readLink(_ path: String) -> String? {
  var buffer = [CChar](repeating: 0, count: 4096)
  let count = readlink(path, &buffer, buffer.count)
  guard count >= 0 else { return nil }
  return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

func contents(_ path: String) -> String? { try? Files.read(path) }

private typealias GetXattr = @convention(c) (UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafeMutableRawPointer?, Int) -> Int

/// lgetxattr(2), looked up in libc (Swift's Glibc module lacks <sys/xattr.h>).
func xattr(_ path: String, _ name: String) -> [UInt8]? {
  guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "lgetxattr") else { return nil }
  let call = unsafeBitCast(symbol, to: GetXattr.self)
  var buffer = [UInt8](repeating: 0, count: 4096)
  let count = buffer.withUnsafeMutableBytes { call(path, name, $0.baseAddress, $0.count) }
  return count >= 0 ? Array(buffer[..<count]) : nil
}

/// A device number's major and minor, decoded as glibc encodes them.
func deviceNumbers(_ device: dev_t) -> (major: UInt64, minor: UInt64) {
  let value = UInt64(device)
  let major = ((value >> 32) & 0xffff_f000) | ((value >> 8) & 0x0000_0fff)
  let minor = ((value >> 12) & 0xffff_ff00) | (value & 0x0000_00ff)
  return (major, minor)
}
