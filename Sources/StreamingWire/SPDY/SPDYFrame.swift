import NIOCore

/// One header of a SPDY/3 header block. Names travel lowercase; several values
/// for one name travel NUL-separated in one value (SPDY/3 section 2.6.10).
public struct SPDYHeader: Sendable, Equatable {
  public var name: String
  public var value: String

  public init(_ name: String, _ value: String) {
    self.name = name
    self.value = value
  }
}

/// The headers of a SYN_STREAM, SYN_REPLY or HEADERS frame.
public struct SPDYHeaders: Sendable, Equatable, ExpressibleByDictionaryLiteral {
  public var entries: [SPDYHeader]

  public init(_ entries: [SPDYHeader] = []) {
    self.entries = entries
  }

  public init(dictionaryLiteral elements: (String, String)...) {
    entries = elements.map { SPDYHeader($0.0, $0.1) }
  }

  /// The first value for `name`, compared case-insensitively (Go clients
  /// send lowercase, but http.Header readers canonicalise).
  public func first(_ name: String) -> String? {
    let wanted = name.lowercased()
    guard let header = entries.first(where: { $0.name.lowercased() == wanted }) else { return nil }
    return String(header.value.split(separator: "\0", maxSplits: 1, omittingEmptySubsequences: false)[0])
  }
}

/// A setting carried by a SETTINGS frame (SPDY/3 section 2.6.4).
public struct SPDYSetting: Sendable, Equatable {
  public var flags: UInt8
  public var id: UInt32
  public var value: UInt32

  public init(flags: UInt8 = 0, id: UInt32, value: UInt32) {
    self.flags = flags
    self.id = id
    self.value = value
  }

  public static let initialWindowSizeID: UInt32 = 7
}

/// RST_STREAM status codes (SPDY/3.1 section 2.6.3).
public enum SPDYStreamStatus: UInt32, Sendable {
  case protocolError = 1
  case invalidStream = 2
  case refusedStream = 3
  case unsupportedVersion = 4
  case cancel = 5
  case internalError = 6
  case flowControlError = 7
  case streamInUse = 8
  case streamAlreadyClosed = 9
  case frameTooLarge = 11
}

/// GOAWAY status codes (SPDY/3.1 section 2.6.6).
public enum SPDYSessionStatus: UInt32, Sendable {
  case ok = 0
  case protocolError = 1
  case internalError = 2
}

/// A SYN_STREAM frame: the peer opens a stream.
public struct SPDYSynStream: Sendable, Equatable {
  public var streamID: UInt32
  public var associatedStreamID: UInt32
  /// 0 (highest) to 7.
  public var priority: UInt8
  public var fin: Bool
  public var unidirectional: Bool
  public var headers: SPDYHeaders

  public init(
    streamID: UInt32, associatedStreamID: UInt32 = 0, priority: UInt8 = 0, fin: Bool = false,
    unidirectional: Bool = false, headers: SPDYHeaders
  ) {
    self.streamID = streamID
    self.associatedStreamID = associatedStreamID
    self.priority = priority
    self.fin = fin
    self.unidirectional = unidirectional
    self.headers = headers
  }
}

/// A SPDY/3.1 frame with its header block already (de)compressed.
public enum SPDYFrame: Sendable, Equatable {
  case synStream(SPDYSynStream)
  case synReply(streamID: UInt32, headers: SPDYHeaders, fin: Bool)
  case rstStream(streamID: UInt32, status: UInt32)
  case settings(clearPersisted: Bool, [SPDYSetting])
  case ping(id: UInt32)
  case goAway(lastGoodStreamID: UInt32, status: UInt32)
  case headers(streamID: UInt32, headers: SPDYHeaders, fin: Bool)
  /// Stream 0 moves the session window (SPDY/3.1).
  case windowUpdate(streamID: UInt32, delta: UInt32)
  case data(streamID: UInt32, payload: ByteBuffer, fin: Bool)
}

/// Constants of the SPDY/3 wire format.
enum SPDYWire {
  static let version: UInt16 = 3
  static let controlBit: UInt8 = 0x80
  static let flagFin: UInt8 = 0x01
  static let flagUnidirectional: UInt8 = 0x02
  static let flagClearSettings: UInt8 = 0x01
  static let frameHeaderLength = 8
  static let maxStreamID: UInt32 = 0x7FFF_FFFF

  enum ControlType: UInt16 {
    case synStream = 1
    case synReply = 2
    case rstStream = 3
    case settings = 4
    case ping = 6
    case goAway = 7
    case headers = 8
    case windowUpdate = 9
  }
}
