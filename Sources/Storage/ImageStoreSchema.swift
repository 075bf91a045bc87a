import SQLite

/// The storage tables, as migrations: the daemon's other modules
/// (pods, containers) append migrations of their own to the same migrator, and
/// each runs once per database, in registration order.
public enum ImageStoreSchema {
  public static func register(in migrations: inout SQLiteMigrations) {
    migrations.register("storage-v1: images and layers") { db in
      try db.executeScript(
        """
          CREATE TABLE images (
            id TEXT PRIMARY KEY NOT NULL,
            manifestDigest TEXT NOT NULL,
            size INTEGER NOT NULL,
            config BLOB NOT NULL,
            -- Seconds since 2001-01-01, Date's own reference: the Double
            -- round-trips exactly (a text form would keep milliseconds).
            pulledAt REAL NOT NULL
          );
          -- Tags and repo digests. The name is the key: one name belongs to one
          -- image, so saving it for another image moves it. rowid keeps the order
          -- names were added in.
          CREATE TABLE image_names (
            name TEXT PRIMARY KEY NOT NULL,
            imageID TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
            kind TEXT NOT NULL CHECK (kind IN ('tag', 'digest'))
          );
          CREATE INDEX image_names_by_image ON image_names(imageID);
          CREATE TABLE image_layers (
            imageID TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            chainID TEXT NOT NULL,
            PRIMARY KEY (imageID, position)
          );
          CREATE INDEX image_layers_by_chain ON image_layers(chainID);
          CREATE TABLE layers (
            chainID TEXT PRIMARY KEY NOT NULL,
            diffID TEXT NOT NULL,
            parent TEXT,
            blobDigest TEXT,
            compressedSize INTEGER NOT NULL,
            size INTEGER NOT NULL
          );
          """
      )
    }
  }
}
