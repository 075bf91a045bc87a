import NIOHTTP1
import StreamingWire

/// What the router decided for an accepted request: which session runs
/// once the connection is upgraded.
enum StreamingRoute: Sendable {
  case spdyRemoteCommand(RemoteCommandTarget, version: RemoteCommandVersion, protocolName: String)
  case spdyPortForward(PortForwardRequest, protocolName: String)
  case webSocketRemoteCommand(RemoteCommandTarget, version: RemoteCommandVersion, encoding: ChannelEncoding, subprotocol: String)
  case webSocketPortForward(PortForwardRequest, ports: [UInt16], encoding: ChannelEncoding, subprotocol: String)

  var isSPDY: Bool {
    switch self {
    case .spdyRemoteCommand, .spdyPortForward: true
    case .webSocketRemoteCommand, .webSocketPortForward: false
    }
  }

  /// `X-Stream-Protocol-Version` or `Sec-WebSocket-Protocol` to answer with.
  var protocolName: String {
    switch self {
    case .spdyRemoteCommand(_, _, let name), .spdyPortForward(_, let name): name
    case .webSocketRemoteCommand(_, _, _, let name), .webSocketPortForward(_, _, _, let name): name
    }
  }
}

/// An HTTP answer that refuses a request.
struct StreamingRejection: Error, Sendable, Equatable {
  var status: HTTPResponseStatus
  var message: String
  var headers: [(String, String)] = []

  static func == (lhs: Self, rhs: Self) -> Bool {
    lhs.status == rhs.status && lhs.message == rhs.message
  }
}

/// Decides what an HTTP request to the streaming server gets, kubelet's
/// way: the token first (unknown → 404, and a token is spent even if the
/// upgrade then fails), then the upgrade headers (400), then the protocol
/// (403).
struct StreamingRouter: Sendable {
  let tokens: TokenCache

  func route(_ head: HTTPRequestHead) -> Result<StreamingRoute, StreamingRejection> {
    guard head.method == .GET || head.method == .POST else {
      return .failure(StreamingRejection(status: .methodNotAllowed, message: "405: Method Not Allowed"))
    }
    let (path, query) = Self.splitURI(head.uri)
    let segments = path.split(separator: "/", omittingEmptySubsequences: false)
    // "/exec/<token>" splits into "", "exec", "<token>".
    guard segments.count == 3, segments[0].isEmpty, !segments[2].isEmpty,
      let request = tokens.consume(String(segments[2])), request.pathKind == segments[1]
    else {
      return .failure(StreamingRejection(status: .notFound, message: "404 page not found"))
    }
    let upgrade = head.headers["Upgrade"].map { $0.lowercased() }
    let connectionTokens = ProtocolNegotiation.tokens(head.headers["Connection"]).map { $0.lowercased() }
    guard connectionTokens.contains("upgrade") else { return .failure(Self.missingUpgrade) }
    if upgrade.contains("websocket") {
      return routeWebSocket(request, offered: head.headers[StreamProtocols.webSocketProtocolHeader], query: query)
    }
    if upgrade.contains(StreamProtocols.spdyUpgrade.lowercased()) {
      return routeSPDY(request, offered: head.headers[StreamProtocols.protocolVersionHeader])
    }
    return .failure(Self.missingUpgrade)
  }

  private static let missingUpgrade = StreamingRejection(
    status: .badRequest, message: "unable to upgrade: missing upgrade headers in request")

  private func routeSPDY(_ request: StreamingRequest, offered: [String]) -> Result<StreamingRoute, StreamingRejection> {
    switch request {
    case .exec, .attach:
      let supported = ProtocolNegotiation.remoteCommandSPDY.map(\.name)
      guard let chosen = ProtocolNegotiation.chooseSPDY(offered: offered, supported: supported) else {
        return .failure(Self.unnegotiable(offered: offered, supported: supported))
      }
      let version = ProtocolNegotiation.remoteCommandSPDY.first { $0.name == chosen }?.version ?? .v1
      return .success(.spdyRemoteCommand(Self.target(request)!, version: version, protocolName: chosen))
    case .portForward(let portForward):
      let supported = ProtocolNegotiation.portForwardSPDY
      guard let chosen = ProtocolNegotiation.chooseSPDY(offered: offered, supported: supported) else {
        return .failure(Self.unnegotiable(offered: offered, supported: supported))
      }
      return .success(.spdyPortForward(portForward, protocolName: chosen))
    }
  }

  private func routeWebSocket(_ request: StreamingRequest, offered: [String], query: Substring) -> Result<StreamingRoute, StreamingRejection> {
    switch request {
    case .exec, .attach:
      let supported = ProtocolNegotiation.remoteCommandWebSocket
      guard let chosen = ProtocolNegotiation.chooseWebSocket(offered: offered, supported: supported.keys), let choice = supported[chosen] else {
        return .failure(Self.unnegotiable(offered: offered, supported: supported.keys.filter { !$0.isEmpty }.sorted()))
      }
      return .success(
        .webSocketRemoteCommand(Self.target(request)!, version: choice.version, encoding: choice.encoding, subprotocol: chosen))
    case .portForward(let portForward):
      let supported = ProtocolNegotiation.portForwardWebSocket
      guard let chosen = ProtocolNegotiation.chooseWebSocket(offered: offered, supported: supported.keys), let encoding = supported[chosen] else {
        return .failure(Self.unnegotiable(offered: offered, supported: supported.keys.filter { !$0.isEmpty }.sorted()))
      }
      var ports = portForward.ports
      if ports.isEmpty {
        switch Self.queryPorts(query) {
        case .success(let queried): ports = queried
        case .failure(let rejection): return .failure(rejection)
        }
      }
      return .success(.webSocketPortForward(portForward, ports: ports, encoding: encoding, subprotocol: chosen))
    }
  }

  private static func target(_ request: StreamingRequest) -> RemoteCommandTarget? {
    switch request {
    case .exec(let exec): .exec(exec)
    case .attach(let attach): .attach(attach)
    case .portForward: nil
    }
  }

  private static func unnegotiable(offered: [String], supported: [String]) -> StreamingRejection {
    let clientList = ProtocolNegotiation.tokens(offered).joined(separator: " ")
    return StreamingRejection(
      status: .forbidden,
      message: "unable to upgrade: unable to negotiate protocol: client supports [\(clientList)], server supports [\(supported.joined(separator: " "))]",
      headers: supported.map { (StreamProtocols.acceptedVersionsHeader, $0) })
  }

  /// kubelet's WebSocket port list: every `port` query value, comma lists
  /// allowed, each 1...65535.
  static func queryPorts(_ query: Substring) -> Result<[UInt16], StreamingRejection> {
    var ports: [UInt16] = []
    for pair in query.split(separator: "&") {
      let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
      guard parts[0] == "port" else { continue }
      let value = parts.count > 1 ? parts[1] : ""
      for item in value.split(separator: ",", omittingEmptySubsequences: false) {
        guard let port = UInt16(item), port > 0 else {
          return .failure(StreamingRejection(status: .badRequest, message: "unable to parse \"\(value)\" as a port"))
        }
        ports.append(port)
      }
    }
    guard !ports.isEmpty else {
      return .failure(StreamingRejection(status: .badRequest, message: "query parameter \"port\" is required"))
    }
    return .success(ports)
  }

  static func splitURI(_ uri: String) -> (path: Substring, query: Substring) {
    let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
    return (parts[0], parts.count > 1 ? parts[1] : "")
  }
}
