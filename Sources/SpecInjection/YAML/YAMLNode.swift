import CYAML

/// A YAML document as libyaml composes it (anchors and aliases resolved),
/// with scalars kept as text: the reader of each field decides whether it is
/// a string or a number, as sigs.k8s.io/yaml does for a typed target. JSON
/// is read through the same path, being YAML's flow form.
public indirect enum YAMLNode: Sendable {
  /// `plain` is false for quoted and block scalars, which are always strings.
  case scalar(String, plain: Bool)
  case sequence([YAMLNode])
  /// Members in document order; keys are scalars.
  case mapping([(key: String, value: YAMLNode)])

  /// An empty or `null`/`~` plain scalar: a field that is absent.
  public var isNull: Bool {
    if case .scalar(let text, plain: true) = self { return ["", "~", "null", "Null", "NULL"].contains(text) }
    return false
  }
}

/// Why a YAML (or JSON) text could not be read.
public struct YAMLError: Error, Sendable, Equatable, CustomStringConvertible {
  public var description: String
  public init(_ description: String) { self.description = description }
}

extension YAMLNode {
  /// Deeper than this is no device spec, but an alias loop.
  static let maximumDepth = 64
  /// More nodes than this (aliases counted each time they are expanded)
  /// is no device spec, but a "billion laughs" of aliases.
  static let maximumNodes = 100_000

  /// The first document of `bytes`; nil when it is empty.
  public static func parse(_ bytes: [UInt8]) throws(YAMLError) -> YAMLNode? {
    var parser = yaml_parser_t()
    guard yaml_parser_initialize(&parser) == 1 else { throw YAMLError("cannot initialise the YAML parser") }
    defer { yaml_parser_delete(&parser) }
    var document = yaml_document_t()
    let loaded = bytes.withUnsafeBufferPointer { buffer in
      yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
      return yaml_parser_load(&parser, &document)
    }
    guard loaded == 1 else {
      let problem = parser.problem.map { String(cString: $0) } ?? "malformed YAML"
      let mark = parser.problem_mark
      throw YAMLError("\(problem) at line \(mark.line + 1), column \(mark.column + 1)")
    }
    defer { yaml_document_delete(&document) }
    guard let root = yaml_document_get_root_node(&document) else { return nil }
    var budget = maximumNodes
    return try node(root, in: &document, depth: 0, budget: &budget)
  }

  private static func node(
    _ pointer: UnsafeMutablePointer<yaml_node_t>, in document: inout yaml_document_t, depth: Int, budget: inout Int
  ) throws(YAMLError) -> YAMLNode {
    guard depth < maximumDepth else { throw YAMLError("nested deeper than \(maximumDepth) levels") }
    budget -= 1
    guard budget >= 0 else { throw YAMLError("more than \(maximumNodes) nodes") }
    let node = pointer.pointee
    switch node.type {
    case YAML_SCALAR_NODE:
      let scalar = node.data.scalar
      let text = String(decoding: UnsafeBufferPointer(start: scalar.value, count: scalar.length), as: UTF8.self)
      return .scalar(text, plain: scalar.style == YAML_PLAIN_SCALAR_STYLE)
    case YAML_SEQUENCE_NODE:
      var items: [YAMLNode] = []
      var item = node.data.sequence.items.start
      while let current = item, current != node.data.sequence.items.top {
        items.append(try child(current.pointee, in: &document, depth: depth, budget: &budget))
        item = current + 1
      }
      return .sequence(items)
    case YAML_MAPPING_NODE:
      var members: [(key: String, value: YAMLNode)] = []
      var pair = node.data.mapping.pairs.start
      while let current = pair, current != node.data.mapping.pairs.top {
        guard case .scalar(let key, _) = try child(current.pointee.key, in: &document, depth: depth, budget: &budget) else {
          throw YAMLError("a mapping key at line \(node.start_mark.line + 1) is not a scalar")
        }
        members.append((key, try child(current.pointee.value, in: &document, depth: depth, budget: &budget)))
        pair = current + 1
      }
      return .mapping(members)
    default:
      throw YAMLError("an empty node at line \(node.start_mark.line + 1)")
    }
  }

  private static func child(
    _ index: Int32, in document: inout yaml_document_t, depth: Int, budget: inout Int
  ) throws(YAMLError) -> YAMLNode {
    guard let pointer = yaml_document_get_node(&document, index) else { throw YAMLError("a dangling node reference") }
    return try node(pointer, in: &document, depth: depth + 1, budget: &budget)
  }
}

/// The members of one mapping, read field by field the way a strict Go
/// decoder reads a struct: unknown and repeated fields are errors, and
/// `where` names the place in the document for messages.
struct YAMLFields {
  let place: String
  private var members: [String: YAMLNode] = [:]

  init(_ node: YAMLNode, at place: String, known: Set<String>) throws(YAMLError) {
    self.place = place
    if node.isNull { return }
    guard case .mapping(let pairs) = node else { throw YAMLError("\(place) must be a mapping") }
    for (key, value) in pairs {
      guard known.contains(key) else { throw YAMLError("\(place): unknown field \(String(reflecting: key))") }
      guard members.updateValue(value, forKey: key) == nil else {
        throw YAMLError("\(place): field \(String(reflecting: key)) appears twice")
      }
    }
  }

  func node(_ key: String) -> YAMLNode? {
    guard let value = members[key], !value.isNull else { return nil }
    return value
  }

  func string(_ key: String) throws(YAMLError) -> String? {
    guard let value = node(key) else { return nil }
    guard case .scalar(let text, _) = value else { throw YAMLError("\(place).\(key) must be a string") }
    return text
  }

  func strings(_ key: String) throws(YAMLError) -> [String] {
    var result: [String] = []
    for (index, item) in try list(key).enumerated() {
      guard case .scalar(let text, _) = item else { throw YAMLError("\(place).\(key)[\(index)] must be a string") }
      result.append(text)
    }
    return result
  }

  func list(_ key: String) throws(YAMLError) -> [YAMLNode] {
    guard let value = node(key) else { return [] }
    guard case .sequence(let items) = value else { throw YAMLError("\(place).\(key) must be a list") }
    return items
  }

  /// A number in YAML's forms: decimal, 0x hex, 0o or 0 octal (file modes are often written 0666).
  func integer(_ key: String) throws(YAMLError) -> Int64? {
    guard let value = node(key) else { return nil }
    guard case .scalar(let text, plain: true) = value, let number = Self.integer(text) else {
      throw YAMLError("\(place).\(key) must be an integer")
    }
    return number
  }

  static func integer(_ text: String) -> Int64? {
    var digits = Substring(text)
    var negative = false
    if digits.hasPrefix("-") || digits.hasPrefix("+") {
      negative = digits.first == "-"
      digits = digits.dropFirst()
    }
    var radix = 10
    if digits.hasPrefix("0x") || digits.hasPrefix("0X") {
      radix = 16
      digits = digits.dropFirst(2)
    } else if digits.hasPrefix("0o") {
      radix = 8
      digits = digits.dropFirst(2)
    } else if digits.count > 1, digits.hasPrefix("0") {
      radix = 8
      digits = digits.dropFirst()
    }
    guard !digits.isEmpty, let magnitude = Int64(digits, radix: radix) else { return nil }
    return negative ? -magnitude : magnitude
  }
}
