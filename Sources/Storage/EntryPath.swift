/// An archive entry's path made relative to the layer root, by text alone:
/// nothing on disk is consulted (the disk walk in `LayerDirectory` then
/// refuses symlinks on the way), so no entry can name a place outside the root.
struct EntryPath: Hashable {
  /// Components, none empty, "." or "..". Empty means the layer root itself.
  var components: [[UInt8]]
  /// The path as the archive spelled it, for messages.
  var text: String

  var isRoot: Bool { components.isEmpty }
  var name: [UInt8] { components.last ?? [] }
  var parent: ArraySlice<[UInt8]> { components.dropLast() }

  private static let slash = UInt8(ascii: "/")
  private static let dot = UInt8(ascii: ".")

  /// An entry's own path. A leading "/" is dropped, as tar does without -P
  /// (OCI layers are relative; some tools still write "/etc/..."); "a/../b" is
  /// "b"; ".." that would climb above the root is refused.
  static func entry(_ raw: [UInt8]) throws(StorageError) -> EntryPath {
    try resolve(raw)
  }

  /// A hard link's target. Tar names it from the archive root, like an entry;
  /// an absolute target is refused outright, because it can only have been
  /// written to point at the host's own files.
  static func linkTarget(_ raw: [UInt8], of entry: String) throws(StorageError) -> EntryPath {
    guard raw.first != slash else {
      throw .unsafePath(entry: entry, reason: "hard link target \"\(String(decoding: raw, as: UTF8.self))\" is absolute")
    }
    do {
      return try resolve(raw)
    } catch {
      throw .unsafePath(entry: entry, reason: "hard link target \"\(String(decoding: raw, as: UTF8.self))\" leaves the layer")
    }
  }

  private static func resolve(_ raw: [UInt8]) throws(StorageError) -> EntryPath {
    let text = String(decoding: raw, as: UTF8.self)
    var components: [[UInt8]] = []
    for part in raw.split(separator: slash, omittingEmptySubsequences: true) {
      if part.count == 1 && part.first == dot { continue }
      if part.count == 2 && part.allSatisfy({ $0 == dot }) {
        guard !components.isEmpty else {
          throw .unsafePath(entry: text, reason: "\"..\" leaves the layer root")
        }
        components.removeLast()
        continue
      }
      components.append(Array(part))
    }
    return EntryPath(components: components, text: text)
  }
}
