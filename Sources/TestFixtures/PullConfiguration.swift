import Support

extension RegistryServer {
  /// crio.conf TOML that makes a daemon pull from this registry: a
  /// registries.conf marking it insecure (plain HTTP on loopback) and
  /// searching it for short names, and a policy.json, both written to
  /// `directory`, so the host's /etc/containers files play no part.
  public func pullConfiguration(
    in directory: String, policy: String = #"{"default":[{"type":"insecureAcceptAnything"}]}"#
  ) throws -> String {
    try Files.write(directory + "/registries.conf", """
      unqualified-search-registries = ["\(host)"]

      [[registry]]
      location = "\(host)"
      insecure = true
      """)
    try Files.write(directory + "/policy.json", policy)
    return """
      [crio.image]
      registries_conf = "\(directory)/registries.conf"
      registries_conf_dir = "\(directory)/registries.conf.d"
      signature_policy = "\(directory)/policy.json"
      """
  }
}
