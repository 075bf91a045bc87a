/// One message of the Kubernetes WebSocket channel protocols
/// (`channel.k8s.io` and its versions): a channel number byte, then the
/// payload. The `base64.` variants send text: the channel as an ASCII digit,
/// then the payload in standard base64. `v5.channel.k8s.io` adds a close
/// signal: channel 255 with one payload byte, the channel being closed.
public struct ChannelMessage: Sendable, Equatable {
  public var channel: UInt8
  public var payload: [UInt8]

  public init(channel: UInt8, payload: [UInt8]) {
    self.channel = channel
    self.payload = payload
  }

  /// The v5 close signal's channel number.
  public static let closeSignalChannel: UInt8 = 255

  public static func closeSignal(for channel: UInt8) -> ChannelMessage {
    ChannelMessage(channel: closeSignalChannel, payload: [channel])
  }

  /// The channel the peer closed, when this is a v5 close signal.
  public var closedChannel: UInt8? {
    channel == Self.closeSignalChannel && payload.count == 1 ? payload[0] : nil
  }
}

/// Why a WebSocket message is not a channel message.
public enum ChannelMessageError: Error, Sendable, Equatable {
  case empty
  case invalidBase64
  case invalidChannelDigit(UInt8)
}

/// How channel messages are put in WebSocket messages.
public enum ChannelEncoding: Sendable, Equatable {
  /// Binary messages: channel byte then raw payload.
  case binary
  /// Text messages: channel digit then base64 payload.
  case base64

  public func encode(_ message: ChannelMessage) -> [UInt8] {
    switch self {
    case .binary:
      return [message.channel] + message.payload
    case .base64:
      // The close signal is only defined for binary v5; a digit cannot hold 255.
      return [UInt8(ascii: "0") &+ message.channel] + Array(Base64.encode(message.payload).utf8)
    }
  }

  public func decode(_ bytes: [UInt8]) throws(ChannelMessageError) -> ChannelMessage {
    guard let first = bytes.first else { throw .empty }
    switch self {
    case .binary:
      return ChannelMessage(channel: first, payload: Array(bytes.dropFirst()))
    case .base64:
      guard first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9") else { throw .invalidChannelDigit(first) }
      guard let payload = Base64.decode(bytes.dropFirst()) else { throw .invalidBase64 }
      return ChannelMessage(channel: first - UInt8(ascii: "0"), payload: payload)
    }
  }
}
