import FoundationEssentials
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import OCI
import Support

/// One unpacked layer: where its chain is, what its uncompressed tar hashed
/// to, and how big it is.
public struct UnpackedLayer: Sendable, Equatable, Codable {
  public var chainID: Digest
  public var diffID: Digest
  /// Bytes of regular-file contents unpacked.
  public var size: UInt64
  /// Bytes of the uncompressed tar stream (containers/storage's
  /// "uncompressed size").
  public var tarSize: UInt64

  public init(chainID: Digest, diffID: Digest, size: UInt64, tarSize: UInt64) {
    self.chainID = chainID
    self.diffID = diffID
    self.size = size
    self.tarSize = tarSize
  }
}

/// Unpacked layers under `root/layers/<chainID hex>/diff`, each an overlayfs
/// lower directory shared by every image whose stack starts the same way.
///
/// A layer is unpacked into a staging directory in `root/tmp` and renamed into
/// place only once complete and verified, so `root/layers` holds complete
/// layers only, whatever fails or crashes. Beside `diff` sits `layer.json`
/// (the UnpackedLayer), written before the rename, so a layer found on disk
/// always has its record.
public final class LayerStore: Sendable {
  public let root: String
  let layers: String
  let tmp: String

  public init(root: String) throws(StorageError) {
    self.root = root
    layers = root + "/layers"
    tmp = root + "/tmp"
    do {
      try StorageDirectories.make(root, layers, tmp)
    } catch {
      throw .io(error)
    }
  }

  public func contains(chainID: Digest) -> Bool {
    var info = stat()
    return lstat(recordPath(chainID), &info) == 0
  }

  /// The overlay lower directory of a chain.
  public func diffPath(chainID: Digest) -> String {
    "\(layers)/\(chainID.hex)/diff"
  }

  /// The record of an unpacked chain, or nil when it is not unpacked.
  public func layer(chainID: Digest) throws(StorageError) -> UnpackedLayer? {
    let bytes: [UInt8]
    do {
      bytes = try Files.readBytes(recordPath(chainID))
    } catch {
      if error.code == ENOENT { return nil }
      throw .io(error)
    }
    do {
      return try JSONDecoder().decode(UnpackedLayer.self, from: Data(bytes))
    } catch {
      throw .archive("layer record of \(chainID) is unreadable: \(error)")
    }
  }

  /// Whether a chain's directory is whole: its record reads back and its
  /// `diff` directory is there. After an unclean stop, a layer whose
  /// directory lost either (never synced to disk) is damaged; what is
  /// inside `diff` is not hashed again (that would read every image).
  public func isIntact(chainID: Digest) -> Bool {
    guard (try? layer(chainID: chainID)) != nil else { return false }
    return Files.kind(of: diffPath(chainID: chainID)) == .directory
  }

  /// Every unpacked chain.
  public func list() -> [Digest] {
    ((try? Files.list(layers)) ?? []).compactMap { try? Digest(parsing: "sha256:\($0)") }
  }

  /// Unpacks `blob` (tar, tar+gzip or tar+zstd; the compression is detected
  /// from the bytes, so `compression` is only the manifest's word for it) and
  /// checks that the uncompressed stream hashes to `expectedDiffID`. Nothing
  /// is kept on any failure. A chain already unpacked is returned as it is;
  /// when two unpacks of one chain race, the first rename wins and the other's
  /// work is dropped.
  public func unpack(blob: String, compression: LayerCompression, expectedDiffID: Digest, chainID: Digest) throws(StorageError) -> UnpackedLayer {
    try unpack(.file(blob), expectedDiffID: expectedDiffID, chainID: chainID)
  }

  /// Unpacks a layer as `unpack(blob:…)` does, from a file or from a
  /// download as it arrives; a download's layer is kept only once its
  /// producer has ended the stream as good (its digest matched).
  public func unpack(_ source: LayerSource, expectedDiffID: Digest, chainID: Digest) throws(StorageError) -> UnpackedLayer {
    if let existing = try layer(chainID: chainID) { return existing }
    let staging = StorageDirectories.uniquePath(in: tmp, prefix: "layer-\(chainID.short)-")
    // Owner-only while half written: setuid binaries must not be reachable.
    guard mkdir(staging, 0o700) == 0 else { throw .io(SystemError("mkdir", path: staging)) }
    do throws(StorageError) {
      guard mkdir(staging + "/diff", 0o755) == 0, chmod(staging + "/diff", 0o755) == 0 else {
        throw StorageError.io(SystemError("mkdir", path: staging + "/diff"))
      }
      let content = try Self.unpack(source, into: staging + "/diff")
      guard content.diffID == expectedDiffID else {
        throw StorageError.diffIDMismatch(expected: expectedDiffID, actual: content.diffID)
      }
      let record = UnpackedLayer(chainID: chainID, diffID: content.diffID, size: content.size, tarSize: content.tarSize)
      try writeRecord(record, in: staging)
      let target = "\(layers)/\(chainID.hex)"
      if rename(staging, target) != 0 {
        let code = errno
        if code == ENOTEMPTY || code == EEXIST, let winner = try layer(chainID: chainID) {
          try? DirectoryTree.remove(path: staging)
          return winner
        }
        throw StorageError.io(SystemError(operation: "rename", path: target, code: code))
      }
      StorageDirectories.sync(directory: layers)
      return record
    } catch {
      try? DirectoryTree.remove(path: staging)
      throw error
    }
  }

  /// Decompresses `blob` (gzip, zstd or plain, told from its bytes) and
  /// unpacks the tar into the existing directory `directory`, which nothing
  /// in the archive can write outside of; returns what the stream hashed to
  /// and how big it was. What it wrote stays on failure: the caller's
  /// directory is the caller's to remove. Public for the fuzz package (Fuzz/),
  /// which feeds it hostile archives.
  public static func unpack(blob: String, into directory: String) throws(StorageError) -> (
    diffID: Digest, size: UInt64, tarSize: UInt64
  ) {
    try unpack(.file(blob), into: directory)
  }

  static func unpack(_ source: LayerSource, into directory: String) throws(StorageError) -> (
    diffID: Digest, size: UInt64, tarSize: UInt64
  ) {
    let stream = try DecompressedStream(source: source)
    var unpacker = try LayerUnpacker(into: directory)
    do {
      let tar = try TarStream(source: stream)
      try unpacker.unpack(tar)
    }
    try stream.drain()
    try stream.drainSource()
    return (stream.digest(), unpacker.contentBytes, stream.length)
  }

  /// Removes a chain's directory. It is first renamed into root/tmp, so the
  /// layer vanishes at once and a crash halfway through the deletion leaves
  /// only litter for `cleanUpIncomplete()`. Unmounting any overlay that uses
  /// it is the caller's business.
  public func remove(chainID: Digest) throws(StorageError) {
    let doomed = StorageDirectories.uniquePath(in: tmp, prefix: "removing-")
    guard rename("\(layers)/\(chainID.hex)", doomed) == 0 else {
      if errno == ENOENT { return }
      throw .io(SystemError("rename", path: "\(layers)/\(chainID.hex)"))
    }
    do {
      try DirectoryTree.remove(path: doomed)
    } catch {
      throw .io(error)
    }
  }

  /// Bytes and inodes used under root/layers (for ImageFsInfo), every entry
  /// counted as CRI-O's walk counts it, hard-linked inodes once.
  public func usage() -> (bytes: UInt64, inodes: UInt64) {
    DirectoryTree.usage(of: layers)
  }

  private func recordPath(_ chainID: Digest) -> String {
    "\(layers)/\(chainID.hex)/layer.json"
  }

  private func writeRecord(_ record: UnpackedLayer, in directory: String) throws(StorageError) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let bytes: [UInt8]
    do {
      bytes = Array(try encoder.encode(record))
    } catch {
      throw .archive("cannot encode the layer record: \(error)")
    }
    let path = directory + "/layer.json"
    do throws(SystemError) {
      let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
      guard fd >= 0 else { throw SystemError("open", path: path) }
      let file = OwnedDescriptor(fd)
      try Files.writeAll(file.fd, bytes, path: path)
    } catch {
      throw .io(error)
    }
  }
}
