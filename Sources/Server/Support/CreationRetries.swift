/// Kubelet's retry protocol for RunPodSandbox and CreateContainer (CRI-O's
/// resource store): a creation runs to its end even when its caller's
/// deadline passes; a retry with the same name that arrives meanwhile waits
/// for it, and one that arrives later is handed the result nobody took,
/// instead of "name is reserved".
actor CreationRetries {
  private let inFlight = SharedWork<String, String>(cancelWhenAbandoned: false)
  /// Reserved name → ID of a record whose creator gave up before the answer.
  private var unclaimed: [String: String] = [:]

  /// Runs `work` (which returns the new record's ID) for `name`, or joins
  /// the run already under way for it.
  func create(_ name: String, _ work: @escaping @Sendable () async throws -> String) async throws -> String {
    let id = try await inFlight.run(name) {
      let id = try await work()
      await self.hold(name, id)
      return id
    }
    // A caller that is gone leaves the result for its retry.
    try Task.checkCancellation()
    unclaimed[name] = nil
    return id
  }

  private func hold(_ name: String, _ id: String) { unclaimed[name] = id }

  /// Whether the record `id` holding `name` was made for a caller that gave
  /// up; if so it now belongs to the asking retry.
  func claim(_ name: String, id: String) -> Bool {
    guard unclaimed[name] == id else { return false }
    unclaimed[name] = nil
    return true
  }

  /// The record is gone: nothing to hand over any more.
  func forget(_ name: String) { unclaimed[name] = nil }
}
