import CArchive
import Crypto
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import OCI
import Support

/// Where a layer's compressed bytes come from.
public enum LayerSource: Sendable {
  /// A blob file on disk.
  case file(String)
  /// A download still arriving: its producer's `finish()` says the blob
  /// matched its digest, and only then does the stream end.
  case stream(BytePipe)
}

/// The first stage of reading a layer: libarchive's "raw" format with the
/// gzip and zstd filters turns the blob into the uncompressed tar stream, which
/// is hashed here as it passes (that hash is the diffID) and handed on, chunk
/// by chunk, to the tar parser. Memory stays at two buffers whatever the
/// layer's size. Compression is detected from the bytes, as containers/storage
/// does, so a mislabelled media type still unpacks (the diffID check still holds).
final class DecompressedStream {
  private let archive: OpaquePointer
  private let source: Source
  /// Compressed bytes on their way to the decompressor.
  let input: UnsafeMutableRawBufferPointer
  private let buffer: UnsafeMutableRawBufferPointer
  private var hasher = SHA256()
  /// Bytes of uncompressed tar seen so far.
  private(set) var length: UInt64 = 0
  /// The decompressor's complaint, kept so the tar parser's generic "read
  /// callback failed" can be reported as what actually went wrong.
  private(set) var failure: String?
  private var finished = false

  private enum Source {
    case file(Int32)
    case stream(BytePipe)
  }

  init(source: LayerSource) throws(StorageError) {
    switch source {
    case .file(let blob):
      let fd = open(blob, O_RDONLY | O_CLOEXEC)
      guard fd >= 0 else {
        throw errno == ENOENT ? .notFound("layer blob \(blob)") : .io(SystemError("open", path: blob))
      }
      self.source = .file(fd)
    case .stream(let pipe):
      self.source = .stream(pipe)
    }
    guard let archive = crio_archive_read_new() else {
      if case .file(let fd) = self.source { close(fd) }
      throw .archive(Self.noReader)
    }
    self.archive = archive
    input = .allocate(byteCount: 1 << 17, alignment: 16)
    buffer = .allocate(byteCount: 1 << 17, alignment: 16)
    crio_archive_read_support_filter_gzip(archive)
    crio_archive_read_support_filter_zstd(archive)
    crio_archive_read_support_format_raw(archive)
    // The archive is freed in deinit, before this object goes.
    let client = Unmanaged.passUnretained(self).toOpaque()
    guard crio_archive_read_open(archive, client, nil, compressedRead, nil) == ARCHIVE_OK else {
      throw .archive(failure ?? Self.message(archive))
    }
    var entry: OpaquePointer?
    let status = crio_archive_read_next_header(archive, &entry)
    if status == ARCHIVE_EOF {
      finished = true
    } else if status != ARCHIVE_OK && status != ARCHIVE_WARN {
      throw .archive(failure ?? Self.message(archive))
    }
  }

  convenience init(blob: String) throws(StorageError) {
    try self.init(source: .file(blob))
  }

  /// The next compressed bytes into `input`: their count, 0 at the end, or
  /// -1 with `failure` set.
  func readCompressed() -> Int {
    switch source {
    case .file(let fd):
      while true {
        let count = read(fd, input.baseAddress, input.count)
        if count >= 0 { return count }
        if errno == EINTR { continue }
        failure = "read: \(SystemError("read").reason)"
        return -1
      }
    case .stream(let pipe):
      switch pipe.read(into: input) {
      case .bytes(let count): return count
      case .end: return 0
      case .failed(let reason):
        failure = reason
        return -1
      }
    }
  }

  /// Reads the compressed source to its end once the decompressor is done:
  /// a download's end is its producer's verdict on the digest, which must
  /// be in before the layer is kept. Bytes past the compressed stream's own
  /// end are ignored, as libarchive ignores them.
  func drainSource() throws(StorageError) {
    while true {
      let count = readCompressed()
      if count == 0 { return }
      if count < 0 { throw .archive(failure ?? "read error") }
    }
  }

  deinit {
    crio_archive_read_free(archive)
    input.deallocate()
    buffer.deallocate()
    if case .file(let fd) = source { close(fd) }
  }

  /// Decompresses the next chunk into the buffer: its length, 0 at the end,
  /// or -1 with `failure` set.
  func fill() -> Int {
    if finished { return 0 }
    let count = crio_archive_read_data(archive, buffer.baseAddress, buffer.count)
    if count < 0 {
      // A failed source said why already; libarchive's gzip reader fails a
      // missing trailer without a message.
      failure = failure ?? crio_archive_error_string(archive).map { String(cString: $0) } ?? "corrupt or truncated compressed data"
      return -1
    }
    if count == 0 {
      finished = true
      return 0
    }
    hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[..<count]))
    length += UInt64(count)
    return count
  }

  var chunk: UnsafeRawPointer { UnsafeRawPointer(buffer.baseAddress!) }

  /// Reads (and hashes) whatever the tar parser left after its end-of-archive
  /// blocks: the diffID covers the whole stream, padding included.
  func drain() throws(StorageError) {
    while true {
      let count = fill()
      if count == 0 { return }
      if count < 0 { throw .archive(failure ?? "read error") }
    }
  }

  /// The diffID, once the stream has been drained.
  func digest() -> OCI.Digest {
    OCI.Digest(sha256: hasher.finalize())
  }

  /// Why no reader: libarchive could not be loaded (what the loader said),
  /// or it is out of memory.
  static var noReader: String {
    crio_archive_load().map { String(cString: $0) } ?? "cannot allocate a libarchive reader"
  }

  static func message(_ archive: OpaquePointer) -> String {
    crio_archive_error_string(archive).map { String(cString: $0) } ?? "unknown libarchive error"
  }
}

/// The second stage: libarchive's tar parser (ustar, pax, GNU) fed from a
/// DecompressedStream, no filters of its own.
final class TarStream {
  let archive: OpaquePointer
  let source: DecompressedStream

  init(source: DecompressedStream) throws(StorageError) {
    guard let archive = crio_archive_read_new() else { throw .archive(DecompressedStream.noReader) }
    self.archive = archive
    self.source = source
    crio_archive_read_support_format_tar(archive)
    // The stream outlives the archive: both are owned by this object, and
    // deinit frees the archive first.
    let client = Unmanaged.passUnretained(source).toOpaque()
    guard crio_archive_read_open(archive, client, nil, tarStreamRead, nil) == ARCHIVE_OK else {
      throw error()
    }
  }

  deinit {
    crio_archive_read_free(archive)
  }

  /// The next entry, or nil at the end of the archive.
  func next() throws(StorageError) -> OpaquePointer? {
    var entry: OpaquePointer?
    let status = crio_archive_read_next_header(archive, &entry)
    switch status {
    case ARCHIVE_EOF: return nil
    case ARCHIVE_OK, ARCHIVE_WARN: return entry
    default: throw error()
    }
  }

  /// Hands the current entry's data to `body` block by block, with each
  /// block's offset in the file (sparse files skip ranges).
  func readData(_ body: (UnsafeRawBufferPointer, Int64) throws(StorageError) -> Void) throws(StorageError) {
    while true {
      var block: UnsafeRawPointer?
      var size = 0
      var offset: la_int64_t = 0
      let status = crio_archive_read_data_block(archive, &block, &size, &offset)
      if status == ARCHIVE_EOF { return }
      guard status == ARCHIVE_OK || status == ARCHIVE_WARN else { throw error() }
      if size > 0, let block {
        try body(UnsafeRawBufferPointer(start: block, count: size), Int64(offset))
      }
    }
  }

  /// The decompressor's failure when there was one (it says "truncated
  /// gzip input" where the tar parser only knows its input stopped).
  func error() -> StorageError {
    .archive(source.failure ?? DecompressedStream.message(archive))
  }
}

/// libarchive's read callback for TarStream: one decompressed chunk at a time.
private func tarStreamRead(
  _ archive: OpaquePointer?,
  _ client: UnsafeMutableRawPointer?,
  _ buffer: UnsafeMutablePointer<UnsafeRawPointer?>?
) -> la_ssize_t {
  guard let client, let buffer else { return -1 }
  let source = Unmanaged<DecompressedStream>.fromOpaque(client).takeUnretainedValue()
  let count = source.fill()
  buffer.pointee = source.chunk
  return la_ssize_t(count)
}

/// libarchive's read callback for DecompressedStream: the next compressed bytes.
private func compressedRead(
  _ archive: OpaquePointer?,
  _ client: UnsafeMutableRawPointer?,
  _ buffer: UnsafeMutablePointer<UnsafeRawPointer?>?
) -> la_ssize_t {
  guard let client, let buffer else { return -1 }
  let stream = Unmanaged<DecompressedStream>.fromOpaque(client).takeUnretainedValue()
  let count = stream.readCompressed()
  buffer.pointee = UnsafeRawPointer(stream.input.baseAddress)
  return la_ssize_t(count)
}
