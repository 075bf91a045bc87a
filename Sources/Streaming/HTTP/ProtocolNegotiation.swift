import StreamingWire

/// The remotecommand protocol generations. They differ in which streams
/// exist and in how the final status is written.
enum RemoteCommandVersion: Int, Sendable, Comparable {
  case v1 = 1, v2, v3, v4, v5

  static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

  /// v3 added the resize stream.
  var carriesResize: Bool { self >= .v3 }
  /// v4 writes a metav1.Status JSON to the error stream; older ones write
  /// the error text and nothing on success.
  var writesStatusJSON: Bool { self >= .v4 }
}

/// Picks the protocol both ends speak, the way kubelet does.
enum ProtocolNegotiation {
  /// Kubelet's SPDY list, most preferred first. (v5 only differs from v4
  /// over WebSocket, and kubelet does not offer it over SPDY.)
  static let remoteCommandSPDY: [(name: String, version: RemoteCommandVersion)] = [
    (StreamProtocols.RemoteCommand.v4, .v4),
    (StreamProtocols.RemoteCommand.v3, .v3),
    (StreamProtocols.RemoteCommand.v2, .v2),
    (StreamProtocols.RemoteCommand.v1, .v1),
  ]

  static let portForwardSPDY = [StreamProtocols.PortForward.v1]

  /// WebSocket subprotocols for exec and attach. The empty name stands for
  /// a client that offered none.
  static let remoteCommandWebSocket: [String: (version: RemoteCommandVersion, encoding: ChannelEncoding)] = [
    "": (.v1, .binary),
    StreamProtocols.RemoteCommand.v1: (.v1, .binary),
    StreamProtocols.RemoteCommand.base64V1: (.v1, .base64),
    StreamProtocols.RemoteCommand.v4: (.v4, .binary),
    StreamProtocols.RemoteCommand.base64V4: (.v4, .base64),
    StreamProtocols.RemoteCommand.v5: (.v5, .binary),
  ]

  /// WebSocket subprotocols for port-forward (kubelet's websocket.go).
  static let portForwardWebSocket: [String: ChannelEncoding] = [
    "": .binary,
    StreamProtocols.RemoteCommand.v4: .binary,
    StreamProtocols.RemoteCommand.base64V4: .base64,
  ]

  /// Splits repeated and comma-separated header values into tokens.
  static func tokens(_ values: [String]) -> [String] {
    values.flatMap { $0.split(separator: ",") }
      .map { String($0.trimmingSpaces()) }
      .filter { !$0.isEmpty }
  }

  /// SPDY: the server's most preferred protocol the client offers. A client
  /// that offers none gets "" (kubelet falls back to v1 then).
  static func chooseSPDY(offered: [String], supported: [String]) -> String? {
    let offered = tokens(offered)
    guard !offered.isEmpty else { return "" }
    return supported.first { offered.contains($0) }
  }

  /// WebSocket: the client's first offer the server supports
  /// (golang.org/x/net/websocket's order, which kubelet uses).
  static func chooseWebSocket(offered: [String], supported: some Collection<String>) -> String? {
    let offered = tokens(offered)
    guard !offered.isEmpty else { return supported.contains("") ? "" : nil }
    return offered.first { supported.contains($0) }
  }
}

extension Substring {
  func trimmingSpaces() -> Substring {
    var result = self
    while let first = result.first, first == " " || first == "\t" { result.removeFirst() }
    while let last = result.last, last == " " || last == "\t" { result.removeLast() }
    return result
  }
}
