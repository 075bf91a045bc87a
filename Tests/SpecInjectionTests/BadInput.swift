/// A file's text that must be refused, and the words the refusal must
/// contain (also the test case's name).
struct BadInput: Sendable, CustomStringConvertible {
  var text: String
  var reason: String
  var description: String { reason }
}
