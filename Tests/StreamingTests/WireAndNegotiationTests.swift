import NIOHTTP1
import Testing

@testable import Streaming
@testable import StreamingWire

@Suite struct ChannelFramingTests {
  @Test func binaryMessagesCarryTheChannelByte() throws {
    let message = ChannelMessage(channel: 1, payload: Array("foo\n".utf8))
    #expect(ChannelEncoding.binary.encode(message) == [1, 102, 111, 111, 10])
    #expect(try ChannelEncoding.binary.decode([1, 102, 111, 111, 10]) == message)
  }

  @Test func base64MessagesMatchTheKubernetesExample() throws {
    // From wsstream's doc comment: "foo\n" on channel 0 is "0Zm9vCg==".
    let message = ChannelMessage(channel: 0, payload: Array("foo\n".utf8))
    #expect(String(decoding: ChannelEncoding.base64.encode(message), as: UTF8.self) == "0Zm9vCg==")
    #expect(try ChannelEncoding.base64.decode(Array("1Cg==".utf8)) == ChannelMessage(channel: 1, payload: [10]))
    #expect(throws: ChannelMessageError.invalidBase64) { try ChannelEncoding.base64.decode(Array("1!!".utf8)) }
    #expect(throws: ChannelMessageError.invalidChannelDigit(UInt8(ascii: "x"))) { try ChannelEncoding.base64.decode(Array("xAA".utf8)) }
    #expect(throws: ChannelMessageError.empty) { try ChannelEncoding.binary.decode([]) }
  }

  @Test func closeSignalNamesTheChannel() {
    let signal = ChannelMessage.closeSignal(for: 0)
    #expect(ChannelEncoding.binary.encode(signal) == [255, 0])
    #expect(signal.closedChannel == 0)
    #expect(ChannelMessage(channel: 255, payload: [0, 1]).closedChannel == nil)
  }

  @Test func base64RoundTripsAndKnownVectors() {
    #expect(Base64.encode(Array("f".utf8)) == "Zg==")
    #expect(Base64.encode(Array("fo".utf8)) == "Zm8=")
    #expect(Base64.encode(Array("foo".utf8)) == "Zm9v")
    #expect(Base64.encode([0xFB, 0xFF], alphabet: .urlSafeUnpadded) == "-_8")
    for length in 0..<40 {
      let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 * 37 + 5) }
      #expect(Base64.decode(Array(Base64.encode(bytes).utf8)) == bytes)
      #expect(Base64.decode(Array(Base64.encode(bytes, alphabet: .urlSafeUnpadded).utf8)) == bytes)
    }
    #expect(Base64.decode(Array("A".utf8)) == nil)
  }
}

@Suite struct TokenCacheTests {
  @Test func tokensWorkOnce() throws {
    let cache = TokenCache()
    let request = StreamingRequest.portForward(PortForwardRequest(podSandboxID: "pod"))
    let token = try cache.insert(request)
    #expect(token.count >= 11)
    #expect(token.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
    #expect(cache.consume(token) == request)
    #expect(cache.consume(token) == nil)
    #expect(cache.consume("unknown") == nil)
  }

  @Test func tokensExpire() throws {
    let clock = ManualClock()
    let cache = TokenCache(timeToLive: .seconds(60), now: clock.now)
    let request = StreamingRequest.exec(ExecRequest(containerID: "c", command: ["true"]))
    let early = try cache.insert(request)
    let late = try cache.insert(request)
    clock.advance(by: .seconds(59))
    #expect(cache.consume(early) == request)
    clock.advance(by: .seconds(2))
    #expect(cache.consume(late) == nil)
  }

  @Test func tokensAreRandom() throws {
    let cache = TokenCache()
    let tokens = try (0..<200).map { _ in try cache.insert(.portForward(PortForwardRequest(podSandboxID: "p"))) }
    #expect(Set(tokens).count == tokens.count)
  }

  @Test func capacityIsEnforcedButExpiredEntriesMakeRoom() throws {
    let clock = ManualClock()
    let cache = TokenCache(timeToLive: .seconds(1), capacity: 2, now: clock.now)
    let request = StreamingRequest.portForward(PortForwardRequest(podSandboxID: "p"))
    _ = try cache.insert(request)
    _ = try cache.insert(request)
    #expect(throws: StreamingRequestError.tooManyPendingRequests(limit: 2)) { try cache.insert(request) }
    clock.advance(by: .seconds(2))
    _ = try cache.insert(request)
    #expect(cache.pendingCount == 1)
  }
}

@Suite struct NegotiationTests {
  @Test func spdyPicksTheServersFavouriteTheClientOffers() {
    let supported = ProtocolNegotiation.remoteCommandSPDY.map(\.name)
    #expect(ProtocolNegotiation.chooseSPDY(offered: ["v2.channel.k8s.io", "v4.channel.k8s.io"], supported: supported) == "v4.channel.k8s.io")
    #expect(ProtocolNegotiation.chooseSPDY(offered: ["channel.k8s.io, v3.channel.k8s.io"], supported: supported) == "v3.channel.k8s.io")
    #expect(ProtocolNegotiation.chooseSPDY(offered: [], supported: supported) == "")
    #expect(ProtocolNegotiation.chooseSPDY(offered: ["v9.channel.k8s.io"], supported: supported) == nil)
  }

  @Test func webSocketPicksTheClientsFirstSupportedOffer() {
    let supported = ProtocolNegotiation.remoteCommandWebSocket.keys
    #expect(ProtocolNegotiation.chooseWebSocket(offered: ["v5.channel.k8s.io, v4.channel.k8s.io"], supported: supported) == "v5.channel.k8s.io")
    #expect(ProtocolNegotiation.chooseWebSocket(offered: ["bogus", "base64.channel.k8s.io"], supported: supported) == "base64.channel.k8s.io")
    #expect(ProtocolNegotiation.chooseWebSocket(offered: [], supported: supported) == "")
    #expect(ProtocolNegotiation.chooseWebSocket(offered: ["bogus"], supported: supported) == nil)
  }

  private func head(_ uri: String, _ headers: [(String, String)]) -> HTTPRequestHead {
    HTTPRequestHead(version: .http1_1, method: .GET, uri: uri, headers: HTTPHeaders(headers))
  }

  @Test func routerChecksTokenThenUpgradeThenProtocol() throws {
    let tokens = TokenCache()
    let router = StreamingRouter(tokens: tokens)
    let exec = StreamingRequest.exec(ExecRequest(containerID: "c", command: ["ls"]))
    let spdy = [("Connection", "Upgrade"), ("Upgrade", "SPDY/3.1")]

    #expect(router.route(head("/exec/nope", spdy)).failureStatus == .notFound)
    let portForwardToken = try tokens.insert(.portForward(PortForwardRequest(podSandboxID: "p")))
    #expect(router.route(head("/exec/\(portForwardToken)", spdy)).failureStatus == .notFound)

    let plain = try tokens.insert(exec)
    #expect(router.route(head("/exec/\(plain)", [])).failureStatus == .badRequest)

    let bogus = try tokens.insert(exec)
    let refused = router.route(head("/exec/\(bogus)", spdy + [("X-Stream-Protocol-Version", "v9.channel.k8s.io")]))
    #expect(refused.failureStatus == .forbidden)

    let good = try tokens.insert(exec)
    let routed = router.route(head("/exec/\(good)?command=ignored", spdy + [("X-Stream-Protocol-Version", "v4.channel.k8s.io")]))
    guard case .success(.spdyRemoteCommand(_, let version, let name)) = routed else {
      Issue.record("not routed: \(routed)")
      return
    }
    #expect(version == .v4 && name == "v4.channel.k8s.io")
  }

  @Test func webSocketPortForwardTakesPortsFromTheQueryWhenTheRequestHasNone() throws {
    let tokens = TokenCache()
    let router = StreamingRouter(tokens: tokens)
    let token = try tokens.insert(.portForward(PortForwardRequest(podSandboxID: "p")))
    let routed = router.route(
      head("/portforward/\(token)?port=80,443&port=8080", [("Connection", "Upgrade"), ("Upgrade", "websocket")]))
    guard case .success(.webSocketPortForward(_, let ports, let encoding, let name)) = routed else {
      Issue.record("not routed: \(routed)")
      return
    }
    #expect(ports == [80, 443, 8080] && encoding == .binary && name == "")
    #expect(StreamingRouter.queryPorts("port=0").failureStatus == .badRequest)
    #expect(StreamingRouter.queryPorts("").failureStatus == .badRequest)
  }
}

extension Result where Failure == StreamingRejection {
  var failureStatus: HTTPResponseStatus? {
    if case .failure(let rejection) = self { return rejection.status }
    return nil
  }
}

@Suite struct RemoteCommandFormatTests {
  @Test func v4StatusMatchesKubelet() {
    #expect(String(decoding: RemoteCommandOutcome.exited(0).errorStreamBytes(.v4)!, as: UTF8.self) == #"{"metadata":{},"status":"Success"}"#)
    #expect(
      String(decoding: RemoteCommandOutcome.exited(3).errorStreamBytes(.v5)!, as: UTF8.self)
        == #"{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: command terminated with exit code 3","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"3"}]}}"#
    )
    #expect(
      String(decoding: RemoteCommandOutcome.failed("no \"such\" container").errorStreamBytes(.v4)!, as: UTF8.self)
        == #"{"metadata":{},"status":"Failure","message":"Internal error occurred: error executing command in container: no \"such\" container","reason":"InternalError","details":{"causes":[{"message":"error executing command in container: no \"such\" container"}]},"code":500}"#
    )
  }

  @Test func olderVersionsWriteTextOnlyOnFailure() {
    #expect(RemoteCommandOutcome.exited(0).errorStreamBytes(.v3) == nil)
    #expect(
      String(decoding: RemoteCommandOutcome.exited(2).errorStreamBytes(.v2)!, as: UTF8.self)
        == "command terminated with non-zero exit code: command terminated with exit code 2")
  }

  @Test func resizeObjectsAreDecodedAcrossChunks() throws {
    var decoder = TerminalSizeDecoder()
    #expect(try decoder.feed(Array(#"{"Width":80,"Hei"#.utf8)) == [])
    #expect(try decoder.feed(Array("ght\":24}\n{\"width\": 100, \"height\" : 40, \"x\":\"}\"}".utf8)) == [
      TerminalSize(width: 80, height: 24), TerminalSize(width: 100, height: 40),
    ])
    #expect(throws: TerminalSizeDecoder.Failure.malformed) { try decoder.feed(Array("garbage".utf8)) }
  }

  @Test func expectedSPDYStreamsFollowTheRequest() {
    let interactive = RequestedStreams(stdin: true, stdout: true, stderr: false, tty: true)
    #expect(SPDYRemoteCommandSession.expectedStreamTypes(interactive, version: .v4) == ["error", "stdin", "stdout", "resize"])
    #expect(SPDYRemoteCommandSession.expectedStreamTypes(interactive, version: .v2) == ["error", "stdin", "stdout"])
    let batch = RequestedStreams(stdin: false, stdout: true, stderr: true, tty: false)
    #expect(SPDYRemoteCommandSession.expectedStreamTypes(batch, version: .v4) == ["error", "stdout", "stderr"])
  }
}
