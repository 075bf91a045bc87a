import FoundationEssentials

/// The `{"errors": [{"code": ..., "message": ...}]}` body of a distribution
/// API error, reduced to one line for error messages.
enum DistributionErrors {
  private struct Body: Decodable {
    struct Entry: Decodable {
      var code: String?
      var message: String?
    }
    var errors: [Entry]?
  }

  static func summary(of bytes: [UInt8]) -> String? {
    guard let body = try? JSONDecoder().decode(Body.self, from: Data(bytes)), let errors = body.errors, !errors.isEmpty else {
      return nil
    }
    return errors.map { entry in
      switch (entry.message, entry.code) {
      case (let message?, let code?): "\(message) (\(code))"
      case (let message?, nil): message
      case (nil, let code?): code
      case (nil, nil): "unknown error"
      }
    }.joined(separator: "; ")
  }
}
