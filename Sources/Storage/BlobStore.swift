#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import OCI
import Support

/// Content-addressed blobs (manifests and configs) under
/// `root/blobs/<algorithm>/<hex>`, each written to `root/tmp` first. Layers
/// are not kept as blobs: they stream from the registry into LayerStore.
///
/// A blob file appears only by an atomic link of a complete, verified file, so
/// a reader never sees half a blob and a crash leaves only temp files, which
/// `cleanUpIncomplete()` empties at start.
public final class BlobStore: Sendable {
  public let root: String
  let blobs: String
  let tmp: String
  /// `big_files_temporary_dir`, where earlier builds of this daemon staged layer
  /// downloads; only their leftovers are looked for there now.
  let formerDownloads: String?

  public init(root: String, formerDownloadDirectory: String? = nil) throws(StorageError) {
    self.root = root
    blobs = root + "/blobs"
    tmp = root + "/tmp"
    formerDownloads = formerDownloadDirectory.flatMap { $0.isEmpty ? nil : $0 }
    do {
      try StorageDirectories.make(root, blobs, blobs + "/sha256", blobs + "/sha512", tmp)
    } catch {
      throw .io(error)
    }
  }

  /// The names layer downloads had in `big_files_temporary_dir`, so start-up
  /// removes ours alone from a directory others may share (/var/tmp).
  static let formerDownloadPrefix = "crio-layer-"

  public func path(of digest: Digest) -> String {
    "\(blobs)/\(digest.algorithm)/\(digest.hex)"
  }

  public func contains(_ digest: Digest) -> Bool {
    var info = stat()
    return lstat(path(of: digest), &info) == 0 && info.st_mode & S_IFMT == S_IFREG
  }

  /// A fresh, unused path in root/tmp for a download.
  public func temporaryPath() -> String {
    StorageDirectories.uniquePath(in: tmp, prefix: "blob-")
  }

  /// Moves a complete, verified temp file into place. link(2) is atomic and
  /// refuses to replace, so when the blob already exists the existing copy
  /// wins and the temp file is dropped: concurrent pulls of one blob are fine.
  public func commit(temporary: String, as digest: Digest) throws(StorageError) {
    // Flush the contents before the name appears, so a crash cannot leave a
    // blob file whose bytes never reached the disk.
    let fd = open(temporary, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else {
      throw errno == ENOENT ? .notFound(temporary) : .io(SystemError("open", path: temporary))
    }
    let file = OwnedDescriptor(fd)
    guard fsync(file.fd) == 0 else { throw .io(SystemError("fsync", path: temporary)) }
    let target = path(of: digest)
    if link(temporary, target) != 0 && errno != EEXIST {
      throw .io(SystemError("link", path: target))
    }
    unlink(temporary)
    StorageDirectories.sync(directory: "\(blobs)/\(digest.algorithm)")
  }

  /// Stores a small blob after checking it hashes to `digest`.
  public func write(_ bytes: [UInt8], as digest: Digest) throws(StorageError) {
    let actual = DigestComputation.digest(of: bytes, like: digest)
    guard actual == digest else { throw .digestMismatch(expected: digest, actual: actual) }
    if contains(digest) { return }
    let temporary = temporaryPath()
    do throws(SystemError) {
      let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
      guard fd >= 0 else { throw SystemError("open", path: temporary) }
      let file = OwnedDescriptor(fd)
      try Files.writeAll(file.fd, bytes, path: temporary)
    } catch {
      unlink(temporary)
      throw .io(error)
    }
    do {
      try commit(temporary: temporary, as: digest)
    } catch {
      unlink(temporary)
      throw error
    }
  }

  public func read(_ digest: Digest) throws(StorageError) -> [UInt8] {
    let file = path(of: digest)
    do {
      return try Files.readBytes(file)
    } catch {
      throw error.code == ENOENT ? .notFound("blob \(digest)") : .io(error)
    }
  }

  /// The digest of a file's contents (a finished download, before `commit`),
  /// with the algorithm `expected` names.
  public func digest(ofFile path: String, like expected: Digest) throws(StorageError) -> Digest {
    try DigestComputation.digest(ofFile: path, algorithm: expected.algorithm)
  }

  public func remove(_ digest: Digest) {
    unlink(path(of: digest))
  }

  /// Every stored blob's digest.
  public func list() -> [Digest] {
    var result: [Digest] = []
    for algorithm in ["sha256", "sha512"] {
      for name in (try? Files.list("\(blobs)/\(algorithm)")) ?? [] {
        if let digest = try? Digest(parsing: "\(algorithm):\(name)") { result.append(digest) }
      }
    }
    return result
  }

  /// Bytes and inodes used under root/blobs.
  public func usage() -> (bytes: UInt64, inodes: UInt64) {
    DirectoryTree.usage(of: blobs)
  }

  /// Empties root/tmp: partial blobs and unpack staging left by a crash,
  /// and removes layer downloads an earlier release left in
  /// `big_files_temporary_dir`. Call at start, before any pull runs (a pull
  /// in progress stages there too).
  public func cleanUpIncomplete() {
    StorageDirectories.empty(tmp)
    if let formerDownloads {
      for name in (try? Files.list(formerDownloads)) ?? [] where name.hasPrefix(Self.formerDownloadPrefix) {
        unlink(formerDownloads + "/" + name)
      }
    }
  }
}
