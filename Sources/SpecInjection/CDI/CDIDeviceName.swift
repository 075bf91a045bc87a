/// A fully-qualified CDI device name, `vendor.com/class=name`, checked by
/// the rules of the CDI library (pkg/cdi/qualified-device.go).
public struct CDIDeviceName: Sendable, Hashable, CustomStringConvertible {
  public var vendor: String
  public var deviceClass: String
  public var name: String

  public var description: String { "\(vendor)/\(deviceClass)=\(name)" }

  public init(vendor: String, deviceClass: String, name: String) {
    self.vendor = vendor
    self.deviceClass = deviceClass
    self.name = name
  }

  /// Throws `.invalidName` with the rule the text breaks.
  public init(parsing text: String) throws(CDIError) {
    func invalid(_ reason: String) -> CDIError { .invalidName(text, reason: reason) }
    guard !text.hasPrefix("/"), let equals = text.firstIndex(of: "=") else {
      throw invalid("expected vendor/class=name")
    }
    let kind = text[..<equals]
    let name = String(text[text.index(after: equals)...])
    guard let slash = kind.firstIndex(of: "/") else { throw invalid("missing vendor") }
    let vendor = String(kind[..<slash])
    let deviceClass = String(kind[kind.index(after: slash)...])
    guard !vendor.isEmpty else { throw invalid("missing vendor") }
    guard !deviceClass.isEmpty else { throw invalid("missing class") }
    guard !name.isEmpty else { throw invalid("missing device name") }
    if let reason = Self.vendorProblem(vendor) ?? Self.classProblem(deviceClass) ?? Self.nameProblem(name) {
      throw invalid(reason)
    }
    self.init(vendor: vendor, deviceClass: deviceClass, name: name)
  }

  /// The vendor and class of a spec's `kind` ("vendor.com/class").
  static func kind(_ kind: String) -> (vendor: String, deviceClass: String)? {
    guard let slash = kind.firstIndex(of: "/") else { return nil }
    let vendor = String(kind[..<slash])
    let deviceClass = String(kind[kind.index(after: slash)...])
    guard vendorProblem(vendor) == nil, classProblem(deviceClass) == nil else { return nil }
    return (vendor, deviceClass)
  }

  static func vendorProblem(_ vendor: String) -> String? {
    check(vendor, what: "vendor", first: \.isASCIILetter, inner: "_-.")
  }

  static func classProblem(_ deviceClass: String) -> String? {
    check(deviceClass, what: "class", first: \.isASCIILetter, inner: "_-")
  }

  static func nameProblem(_ name: String) -> String? {
    check(name, what: "device name", first: \.isASCIIAlphanumeric, inner: "_-.:")
  }

  /// A first character of one kind, inner ones alphanumeric or in `inner`,
  /// and a last one alphanumeric.
  private static func check(
    _ text: String, what: String, first: KeyPath<Character, Bool>, inner: String
  ) -> String? {
    let characters = Array(text)
    guard let head = characters.first else { return "empty \(what)" }
    guard head[keyPath: first] else {
      return "\(what) \(String(reflecting: text)) must start with a letter\(first == \.isASCIILetter ? "" : " or digit")"
    }
    if characters.count == 1 { return nil }
    for character in characters.dropFirst().dropLast() where !(character.isASCIIAlphanumeric || inner.contains(character)) {
      return "\(what) \(String(reflecting: text)) has the character \(String(reflecting: String(character)))"
    }
    guard characters.last!.isASCIIAlphanumeric else {
      return "\(what) \(String(reflecting: text)) must end with a letter or digit"
    }
    return nil
  }
}

extension Character {
  var isASCIILetter: Bool { isASCII && isLetter }
  var isASCIIAlphanumeric: Bool { isASCII && (isLetter || isNumber) }
}
