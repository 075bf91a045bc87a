import FoundationEssentials
import OCI
import SQLite
import Support
import Synchronization

/// Image and layer records in SQLite (`root/images.db`), in WAL mode: lookups run concurrently with each other and with a write.
/// Every multi-step change is one transaction, so a crash never leaves an
/// image with half its names or layers.
public final class ImageStore: Sendable {
  /// The pool, for the daemon's other modules to keep their tables in the same
  /// database (register their migrations through `init(path:migrations:)`).
  public let database: SQLiteDatabase

  /// Every image, as last read from the database: lookups (ImageStatus,
  /// ListImages, every CreateContainer) are answered from memory. A write
  /// bumps the generation and drops it; the next lookup reads it again, and
  /// keeps what it read only if no write came in between.
  private let snapshot = Mutex<(generation: UInt64, images: [ImageRecord]?)>((0, nil))

  /// Opens (creating and migrating) the database at `path`. `migrations`
  /// registers further migrations after the storage tables'.
  public init(path: String, migrations register: (inout SQLiteMigrations) -> Void = { _ in }) throws(StorageError) {
    let directory = DirectoryTree.split(path).parent
    do {
      try Files.makeDirectories(directory, mode: 0o700)
    } catch {
      throw .io(error)
    }
    var migrations = SQLiteMigrations()
    ImageStoreSchema.register(in: &migrations)
    register(&migrations)
    do {
      // The busy timeout covers tools opening the file from outside; this
      // process's writes queue for the one writer connection.
      database = try SQLiteDatabase(path: path, busyTimeoutSeconds: 10)
      try database.migrate(migrations)
    } catch {
      throw .database("\(path): \(error)")
    }
  }

  // MARK: Images

  /// Adds an image, or updates it: config, manifest digest, size, layers and
  /// pull time are replaced; the record's tags and digests are added to those
  /// it has (a pull of a second tag must not drop the first, and concurrent
  /// pulls would race if callers merged). Each of its names is taken from any
  /// other image that had it (a moved tag); an image left without tags keeps
  /// its digests and stays listed (dangling), as containers/storage does.
  /// Returns the image as stored.
  @discardableResult
  public func save(_ record: ImageRecord) throws(StorageError) -> ImageRecord {
    try writing { db in
      try db.execute(
        """
        INSERT INTO images (id, manifestDigest, size, config, pulledAt) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT(id) DO UPDATE SET manifestDigest = excluded.manifestDigest, size = excluded.size,
          config = excluded.config, pulledAt = excluded.pulledAt
        """,
        record.id.description, record.manifestDigest.description, Int64(clamping: record.size),
        record.config, record.pulledAt.timeIntervalSinceReferenceDate
      )
      let names = record.repoTags.map { ($0, "tag") } + record.repoDigests.map { ($0, "digest") }
      for (name, kind) in names {
        try db.execute("DELETE FROM image_names WHERE name = ? AND imageID <> ?", name, record.id.description)
        try db.execute("INSERT OR IGNORE INTO image_names (name, imageID, kind) VALUES (?, ?, ?)", name, record.id.description, kind)
      }
      try db.execute("DELETE FROM image_layers WHERE imageID = ?", record.id.description)
      for (position, chainID) in record.layers.enumerated() {
        try db.execute(
          "INSERT INTO image_layers (imageID, position, chainID) VALUES (?, ?, ?)", record.id.description, position, chainID.description)
      }
      guard let stored = try Self.load(db, id: record.id.description) else {
        throw StorageError.database("image \(record.id) vanished while being saved")
      }
      return stored
    }
  }

  public func image(id: Digest) throws(StorageError) -> ImageRecord? {
    try list().first { $0.id == id }
  }

  /// Finds an image as CRI-O resolves a reference, first match wins:
  /// 1. a full ID, with or without "sha256:";
  /// 2. a name, exactly as stored: a repo tag or a repo digest (normalising
  ///    "busybox" to "docker.io/library/busybox:latest" is the caller's part);
  /// 3. an ID prefix of at least 3 hex digits, with or without "sha256:",
  ///    when exactly one image has it. An ambiguous prefix finds nothing (nil,
  ///    not an error), as containers/storage's lookup does.
  public func find(_ text: String) throws(StorageError) -> ImageRecord? {
    let images = try list()
    let hex = text.hasPrefix("sha256:") ? String(text.dropFirst(7)) : text
    let isHex = !hex.isEmpty && hex.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    if isHex && hex.utf8.count == 64, let found = images.first(where: { $0.id.hex == hex }) {
      return found
    }
    if let named = images.first(where: { $0.repoTags.contains(text) || $0.repoDigests.contains(text) }) {
      return named
    }
    guard isHex && hex.utf8.count >= 3 && hex.utf8.count < 64 else { return nil }
    let matches = images.filter { $0.id.hex.hasPrefix(hex) }
    return matches.count == 1 ? matches[0] : nil
  }

  /// Every image, oldest pull first.
  public func list() throws(StorageError) -> [ImageRecord] {
    let (generation, cached) = snapshot.withLock { ($0.generation, $0.images) }
    if let cached { return cached }
    let images = try readAll()
    snapshot.withLock { if $0.generation == generation { $0.images = images } }
    return images
  }

  private func readAll() throws(StorageError) -> [ImageRecord] {
    try reading { db in
      var names: [String: (tags: [String], digests: [String])] = [:]
      for row in try db.rows("SELECT name, imageID, kind FROM image_names ORDER BY rowid") {
        let id = try row.text("imageID")
        let name = try row.text("name")
        if try row.text("kind") == "tag" {
          names[id, default: ([], [])].tags.append(name)
        } else {
          names[id, default: ([], [])].digests.append(name)
        }
      }
      var layers: [String: [Digest]] = [:]
      for row in try db.rows("SELECT imageID, chainID FROM image_layers ORDER BY imageID, position") {
        layers[try row.text("imageID"), default: []].append(try Self.digest(row.text("chainID")))
      }
      return try db.rows("SELECT * FROM images ORDER BY pulledAt, id").map { row in
        let id = try row.text("id")
        return try Self.record(row, tags: names[id]?.tags ?? [], digests: names[id]?.digests ?? [], layers: layers[id] ?? [])
      }
    }
  }

  /// Removes one name (a tag or a repo digest) from an image, for CRI
  /// RemoveImage by name; RemoveImage by ID is `delete(id:)`.
  ///
  /// The image goes when the removal leaves it without tags and either the
  /// name removed was a tag or no digest is left. So: removing one of several
  /// tags only untags; removing an image's last tag deletes it (its repo
  /// digests were only derived from the pull, as `crictl rmi busybox` expects);
  /// removing a digest of a tagged image drops only that digest; and an image
  /// pulled by digest alone goes with its last digest. Throws `.notFound` when
  /// the image does not have the name.
  public func removeName(_ name: String, from id: Digest) throws(StorageError) -> NameRemoval {
    try writing { db in
      guard
        let kind = try db.texts("SELECT kind FROM image_names WHERE name = ? AND imageID = ?", name, id.description).first
      else {
        throw StorageError.notFound("image \(id.hex) has no name \"\(name)\"")
      }
      try db.execute("DELETE FROM image_names WHERE name = ?", name)
      guard let remaining = try Self.load(db, id: id.description) else {
        throw StorageError.notFound("image \(id.hex)")
      }
      guard remaining.repoTags.isEmpty && (kind == "tag" || remaining.repoDigests.isEmpty) else {
        return .untagged(remaining)
      }
      try db.execute("DELETE FROM images WHERE id = ?", id.description)
      return .deleted(remaining)
    }
  }

  /// Deletes an image with all its names. Its layers' records stay: see
  /// `unreferencedLayers()`. Missing is fine.
  public func delete(id: Digest) throws(StorageError) {
    try writing { db in
      try db.execute("DELETE FROM images WHERE id = ?", id.description)
    }
  }

  /// Chain IDs some image uses: what layer garbage collection must keep.
  public func referencedLayers() throws(StorageError) -> Set<Digest> {
    try reading { db in
      Set(try db.texts("SELECT DISTINCT chainID FROM image_layers").map(Self.digest))
    }
  }

  // MARK: Layers

  /// Adds or replaces a layer's record.
  public func saveLayer(_ layer: LayerRecord) throws(StorageError) {
    try writing { db in
      try db.execute(
        """
        INSERT OR REPLACE INTO layers (chainID, diffID, parent, blobDigest, compressedSize, size)
        VALUES (?, ?, ?, ?, ?, ?)
        """,
        layer.chainID.description, layer.diffID.description, layer.parent?.description,
        layer.blobDigest?.description, Int64(clamping: layer.compressedSize), Int64(clamping: layer.size)
      )
    }
  }

  public func layer(chainID: Digest) throws(StorageError) -> LayerRecord? {
    try reading { db in
      try db.firstRow("SELECT * FROM layers WHERE chainID = ?", chainID.description).map(Self.layerRecord)
    }
  }

  public func layers() throws(StorageError) -> [LayerRecord] {
    try reading { db in
      try db.rows("SELECT * FROM layers ORDER BY chainID").map(Self.layerRecord)
    }
  }

  /// Layer records no image references, for garbage collection (remove each
  /// from the LayerStore, then `deleteLayer`). Run it under the same lock as
  /// pulls: a pull's layers are unreferenced until its image is saved.
  public func unreferencedLayers() throws(StorageError) -> [LayerRecord] {
    try reading { db in
      try db.rows("SELECT * FROM layers WHERE chainID NOT IN (SELECT chainID FROM image_layers) ORDER BY chainID")
        .map(Self.layerRecord)
    }
  }

  public func deleteLayer(chainID: Digest) throws(StorageError) {
    try writing { db in
      try db.execute("DELETE FROM layers WHERE chainID = ?", chainID.description)
    }
  }

  // MARK: Rows

  private static func load(_ db: SQLiteConnection, id: String) throws -> ImageRecord? {
    guard let row = try db.firstRow("SELECT * FROM images WHERE id = ?", id) else { return nil }
    var tags: [String] = []
    var digests: [String] = []
    for name in try db.rows("SELECT name, kind FROM image_names WHERE imageID = ? ORDER BY rowid", id) {
      if try name.text("kind") == "tag" { tags.append(try name.text("name")) } else { digests.append(try name.text("name")) }
    }
    let layers = try db.texts("SELECT chainID FROM image_layers WHERE imageID = ? ORDER BY position", id).map(digest)
    return try record(row, tags: tags, digests: digests, layers: layers)
  }

  private static func record(_ row: SQLRow, tags: [String], digests: [String], layers: [Digest]) throws -> ImageRecord {
    ImageRecord(
      id: try digest(row.text("id")),
      repoTags: tags,
      repoDigests: digests,
      size: UInt64(max(0, try row.integer("size"))),
      manifestDigest: try digest(row.text("manifestDigest")),
      config: try row.blob("config"),
      layers: layers,
      pulledAt: Date(timeIntervalSinceReferenceDate: try row.real("pulledAt"))
    )
  }

  private static func layerRecord(_ row: SQLRow) throws -> LayerRecord {
    LayerRecord(
      chainID: try digest(row.text("chainID")),
      diffID: try digest(row.text("diffID")),
      parent: try row.optionalText("parent").map(digest),
      blobDigest: try row.optionalText("blobDigest").map(digest),
      compressedSize: UInt64(max(0, try row.integer("compressedSize"))),
      size: UInt64(max(0, try row.integer("size")))
    )
  }

  private static func digest(_ text: String) throws -> Digest {
    do {
      return try Digest(parsing: text)
    } catch {
      throw StorageError.database("corrupt digest in the database: \(error)")
    }
  }

  // MARK: Transactions

  private func reading<T: Sendable>(_ body: (SQLiteConnection) throws -> T) throws(StorageError) -> T {
    do {
      return try database.read(body)
    } catch let error as StorageError {
      throw error
    } catch {
      throw .database("\(error)")
    }
  }

  private func writing<T: Sendable>(_ body: (SQLiteConnection) throws -> T) throws(StorageError) -> T {
    // Dropped before and after: a lookup that read the old rows while the
    // write ran does not keep them.
    snapshot.withLock { $0 = ($0.generation + 1, nil) }
    defer { snapshot.withLock { $0 = ($0.generation + 1, nil) } }
    do {
      return try database.write(body)
    } catch let error as StorageError {
      throw error
    } catch {
      throw .database("\(error)")
    }
  }
}
