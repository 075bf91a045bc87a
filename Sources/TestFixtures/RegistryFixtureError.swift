/// A registry fixture that could not do what a test asked.
public struct RegistryFixtureError: Error, CustomStringConvertible {
  public let description: String

  public init(_ description: String) {
    self.description = description
  }
}
