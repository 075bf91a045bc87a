import CRIAPI
import FoundationEssentials
import GRDB

/// Every pod sandbox, in memory for lookups and in the metadata database
/// (table `pods`) so a restarted daemon finds them again. Also reserves pod
/// names while a pod is being created. Actor-held; no process is spawned and
/// no network call made while it is held.
actor PodStore {
  private var pods: [String: PodSandbox] = [:]
  /// Names taken by existing pods or by pods being created.
  private var reservedNames: [String: String] = [:]
  private let database: DatabasePool

  /// The pods table, added to the storage migrations.
  static func registerMigrations(in migrator: inout DatabaseMigrator) {
    migrator.registerMigration("server-v1: pods") { db in
      try db.execute(sql: """
        CREATE TABLE pods (
          id TEXT PRIMARY KEY NOT NULL,
          name TEXT NOT NULL UNIQUE,
          record BLOB NOT NULL
        )
        """)
    }
  }

  /// Loads the pods a previous daemon left.
  init(database: DatabasePool) throws {
    self.database = database
    let rows = try database.read { db in try Row.fetchAll(db, sql: "SELECT record FROM pods") }
    let decoder = JSONDecoder()
    for row in rows {
      let bytes: Data = row["record"]
      let pod = try decoder.decode(PodSandbox.self, from: bytes)
      pods[pod.id] = pod
      reservedNames[pod.name] = pod.id
    }
  }

  enum Reservation: Sendable {
    case reserved
    /// The name belongs to this pod.
    case taken(PodSandbox?)
  }

  /// Takes `name` for a pod about to be created with `id`.
  func reserve(_ name: String, for id: String) -> Reservation {
    if let holder = reservedNames[name] { return .taken(pods[holder]) }
    reservedNames[name] = id
    return .reserved
  }

  func releaseName(_ name: String, of id: String) {
    if reservedNames[name] == id { reservedNames[name] = nil }
  }

  func save(_ pod: PodSandbox) throws {
    let record = try JSONEncoder().encode(pod)
    try database.write { db in
      try db.execute(
        sql: "INSERT INTO pods (id, name, record) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET record = excluded.record",
        arguments: [pod.id, pod.name, record])
    }
    pods[pod.id] = pod
    reservedNames[pod.name] = pod.id
  }

  func delete(_ id: String) throws {
    try database.write { db in try db.execute(sql: "DELETE FROM pods WHERE id = ?", arguments: [id]) }
    if let pod = pods.removeValue(forKey: id), reservedNames[pod.name] == id {
      reservedNames[pod.name] = nil
    }
  }

  /// A pod by full ID or unique prefix; nil when none matches.
  func find(_ idOrPrefix: String) throws(CRIError) -> PodSandbox? {
    guard !idOrPrefix.isEmpty else { throw .invalidArgument("no pod sandbox ID given") }
    if let pod = pods[idOrPrefix] { return pod }
    let matches = pods.values.filter { $0.id.hasPrefix(idOrPrefix) }
    guard matches.count <= 1 else {
      throw .invalidArgument("pod sandbox ID prefix \"\(idOrPrefix)\" is ambiguous (\(matches.count) pods); give more of the ID")
    }
    return matches.first
  }

  func all() -> [PodSandbox] { Array(pods.values) }
}
