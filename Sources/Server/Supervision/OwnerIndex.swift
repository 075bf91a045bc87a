import Synchronization

/// The in-memory read path for one kind of entity: owners by ID, read
/// without waiting for any transition (List and Status never touch files
/// or the database).
final class OwnerIndex<Owner: AnyObject & Sendable>: Sendable {
  private let owners = Mutex<[String: Owner]>([:])
  /// "pod sandbox", "container": names the kind in messages.
  let kind: String

  init(kind: String) {
    self.kind = kind
  }

  func insert(_ owner: Owner, id: String) { owners.withLock { $0[id] = owner } }
  func remove(_ id: String) { _ = owners.withLock { $0.removeValue(forKey: id) } }
  func owner(_ id: String) -> Owner? { owners.withLock { $0[id] } }
  var all: [Owner] { owners.withLock { Array($0.values) } }

  /// The owner with this full ID or unique ID prefix; nil when none matches.
  func find(_ idOrPrefix: String) throws(CRIError) -> Owner? {
    guard !idOrPrefix.isEmpty else { throw .invalidArgument("no \(kind) ID given") }
    let matches = owners.withLock { owners -> [Owner] in
      if let exact = owners[idOrPrefix] { return [exact] }
      return owners.filter { $0.key.hasPrefix(idOrPrefix) }.map(\.value)
    }
    guard matches.count <= 1 else {
      throw .invalidArgument("\(kind) ID prefix \"\(idOrPrefix)\" is ambiguous (\(matches.count) match); give more of the ID")
    }
    return matches.first
  }
}

/// Reserved names (unique while their entity exists or is being created).
final class NameRegistry: Sendable {
  private let names = Mutex<[String: String]>([:])

  /// Takes `name` for `id`; the ID already holding it when it is taken.
  func reserve(_ name: String, for id: String) -> String? {
    names.withLock { names in
      if let holder = names[name] { return holder }
      names[name] = id
      return nil
    }
  }

  func release(_ name: String, of id: String) {
    names.withLock { names in
      if names[name] == id { names[name] = nil }
    }
  }
}
