import OCI

/// Builds tar archives byte by byte, for tests that need exact control over
/// what a layer holds, hostile layers included: every path and link target is
/// written exactly as given ("../x", "/abs", "a/../../x" are all fine here).
///
/// Headers are ustar; a pax extended header is added in front of an entry
/// when ustar cannot hold it (a name or link target over 100 bytes, xattrs as
/// `SCHILY.xattr.<name>`, sub-second mtimes, IDs too big for octal fields).
public struct TarBuilder: Sendable {
  public enum EntryType: UInt8, Sendable {
    case file = 0x30  // '0'
    case hardlink = 0x31  // '1'
    case symlink = 0x32  // '2'
    case characterDevice = 0x33  // '3'
    case blockDevice = 0x34  // '4'
    case directory = 0x35  // '5'
    case fifo = 0x36  // '6'
  }

  /// Everything a header can say. Public so a test can craft any entry.
  public struct Entry: Sendable {
    public var path: [UInt8]
    public var type: EntryType
    public var contents: [UInt8] = []
    public var mode: UInt32 = 0o644
    public var uid: Int = 0
    public var gid: Int = 0
    public var mtime: Int = TarBuilder.defaultMTime
    public var mtimeNanoseconds: Int = 0
    public var linkTarget: [UInt8] = []
    public var deviceMajor: Int = 0
    public var deviceMinor: Int = 0
    /// Written in this order.
    public var xattrs: [(name: String, value: [UInt8])] = []

    public init(path: [UInt8], type: EntryType) {
      self.path = path
      self.type = type
    }
  }

  /// 2023-11-14T22:13:20Z: a fixed time, so archives (and diffIDs) are reproducible.
  public static let defaultMTime = 1_700_000_000

  public private(set) var entries: [Entry] = []

  public init() {}

  // MARK: Entries

  public mutating func file(
    _ path: String, _ contents: [UInt8], mode: UInt32 = 0o644, uid: Int = 0, gid: Int = 0,
    mtime: Int = defaultMTime, mtimeNanoseconds: Int = 0, xattrs: [(name: String, value: [UInt8])] = []
  ) {
    var entry = Entry(path: Array(path.utf8), type: .file)
    entry.contents = contents
    entry.mode = mode
    entry.uid = uid
    entry.gid = gid
    entry.mtime = mtime
    entry.mtimeNanoseconds = mtimeNanoseconds
    entry.xattrs = xattrs
    add(entry)
  }

  public mutating func file(_ path: String, _ text: String, mode: UInt32 = 0o644, uid: Int = 0, gid: Int = 0, mtime: Int = defaultMTime) {
    file(path, Array(text.utf8), mode: mode, uid: uid, gid: gid, mtime: mtime)
  }

  public mutating func directory(
    _ path: String, mode: UInt32 = 0o755, uid: Int = 0, gid: Int = 0, mtime: Int = defaultMTime,
    xattrs: [(name: String, value: [UInt8])] = []
  ) {
    var entry = Entry(path: Array(path.utf8), type: .directory)
    entry.mode = mode
    entry.uid = uid
    entry.gid = gid
    entry.mtime = mtime
    entry.xattrs = xattrs
    add(entry)
  }

  public mutating func symlink(_ path: String, target: String, uid: Int = 0, gid: Int = 0, mtime: Int = defaultMTime) {
    var entry = Entry(path: Array(path.utf8), type: .symlink)
    entry.mode = 0o777
    entry.linkTarget = Array(target.utf8)
    entry.uid = uid
    entry.gid = gid
    entry.mtime = mtime
    add(entry)
  }

  /// A hard link to `target`, named from the archive root as tar does.
  public mutating func hardlink(_ path: String, target: String, mode: UInt32 = 0o644, uid: Int = 0, gid: Int = 0) {
    var entry = Entry(path: Array(path.utf8), type: .hardlink)
    entry.mode = mode
    entry.linkTarget = Array(target.utf8)
    entry.uid = uid
    entry.gid = gid
    add(entry)
  }

  public mutating func characterDevice(_ path: String, major: Int, minor: Int, mode: UInt32 = 0o666, uid: Int = 0, gid: Int = 0, mtime: Int = defaultMTime) {
    device(.characterDevice, path, major: major, minor: minor, mode: mode, uid: uid, gid: gid, mtime: mtime)
  }

  public mutating func blockDevice(_ path: String, major: Int, minor: Int, mode: UInt32 = 0o660, uid: Int = 0, gid: Int = 0, mtime: Int = defaultMTime) {
    device(.blockDevice, path, major: major, minor: minor, mode: mode, uid: uid, gid: gid, mtime: mtime)
  }

  public mutating func fifo(_ path: String, mode: UInt32 = 0o644, uid: Int = 0, gid: Int = 0, mtime: Int = defaultMTime) {
    device(.fifo, path, major: 0, minor: 0, mode: mode, uid: uid, gid: gid, mtime: mtime)
  }

  /// An OCI whiteout hiding `name` in `directory` ("" for the root) of lower layers.
  public mutating func whiteout(_ name: String, in directory: String = "") {
    file(directory.isEmpty ? ".wh.\(name)" : "\(directory)/.wh.\(name)", [], mode: 0o644)
  }

  /// An OCI opaque whiteout: `directory`'s lower-layer contents are hidden.
  public mutating func opaque(_ directory: String) {
    file(directory.isEmpty ? ".wh..wh..opq" : "\(directory)/.wh..wh..opq", [], mode: 0o644)
  }

  public mutating func add(_ entry: Entry) {
    entries.append(entry)
  }

  private mutating func device(_ type: EntryType, _ path: String, major: Int, minor: Int, mode: UInt32, uid: Int, gid: Int, mtime: Int) {
    var entry = Entry(path: Array(path.utf8), type: type)
    entry.deviceMajor = major
    entry.deviceMinor = minor
    entry.mode = mode
    entry.uid = uid
    entry.gid = gid
    entry.mtime = mtime
    add(entry)
  }

  // MARK: Output

  /// The archive: each entry's headers and contents, then the two zero
  /// blocks that end a tar.
  public var bytes: [UInt8] {
    var out: [UInt8] = []
    for entry in entries {
      TarHeader.append(entry, to: &out)
    }
    out += [UInt8](repeating: 0, count: 1024)
    return out
  }

  /// The sha256 of the uncompressed archive: the layer's diffID.
  public var diffID: Digest { .sha256(of: bytes) }

  public func gzip() throws(TarCompressionError) -> [UInt8] { try TarCompression.gzip(bytes) }
  public func zstd() throws(TarCompressionError) -> [UInt8] { try TarCompression.zstd(bytes) }
}
