/// Framing: `[length: u32 BE][version: u8][kind: u8][fields]`, where the
/// length counts version, kind and fields.
public enum Frame {
  /// The frame of `request`.
  public static func encode(_ request: MonitorRequest) -> [UInt8] {
    var body = WireWriter()
    request.encodeBody(&body)
    return frame(kind: request.kind, body.bytes)
  }

  public static func encode(_ response: MonitorResponse) -> [UInt8] {
    var body = WireWriter()
    response.encodeBody(&body)
    return frame(kind: response.kind, body.bytes)
  }

  private static func frame(kind: UInt8, _ body: [UInt8]) -> [UInt8] {
    var writer = WireWriter()
    writer.u32(UInt32(body.count + 2))
    writer.u8(MonitorProtocol.version)
    writer.u8(kind)
    return writer.bytes + body
  }

  /// The length a frame's 4-byte header announces, checked against
  /// `limit` before the reader allocates for the rest.
  public static func length(header: [UInt8], limit: Int) throws(WireError) -> Int {
    var reader = WireReader(header)
    let length = Int(try reader.u32())
    guard length >= 2 else { throw .truncated }
    guard length <= limit else { throw .oversized(length: length, limit: limit) }
    return length
  }

  /// A request from the bytes after the length header.
  public static func decodeRequest(_ payload: [UInt8]) throws(WireError) -> MonitorRequest {
    var reader = WireReader(payload)
    let kind = try versionedKind(&reader)
    let request = try MonitorRequest.decodeBody(kind: kind, &reader)
    try reader.finish()
    return request
  }

  public static func decodeResponse(_ payload: [UInt8]) throws(WireError) -> MonitorResponse {
    var reader = WireReader(payload)
    let kind = try versionedKind(&reader)
    let response = try MonitorResponse.decodeBody(kind: kind, &reader)
    try reader.finish()
    return response
  }

  private static func versionedKind(_ reader: inout WireReader) throws(WireError) -> UInt8 {
    let version = try reader.u8()
    guard version == MonitorProtocol.version else { throw .unsupportedVersion(version) }
    return try reader.u8()
  }
}
