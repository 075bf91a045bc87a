import Foundation
import OCI
@testable import Registry
import Support
import Synchronization
import Testing

/// Behaviour a real registry will not show on demand, against a scripted
/// server: token services, retries, stalls, redirects, odd manifests.
@Suite(.timeLimit(.minutes(1)))
struct RegistryTransportTests {
  static let manifestBytes = OCIJSON.encode(
    ImageManifest(config: Descriptor(mediaType: MediaType.ociConfig, digest: sampleDigest, size: 2), layers: []))

  static func manifestResponse(_ bytes: [UInt8] = manifestBytes, type: String = MediaType.ociManifest) -> ScriptedResponse {
    ScriptedResponse(status: 200, headers: [("Content-Type", type)], body: bytes)
  }

  static func endpoint(_ server: ScriptedHTTPServer, _ repository: String = "team/app") -> Endpoint {
    Endpoint(host: server.host, repository: repository, insecure: true)
  }

  /// A registry that wants a bearer token from its own /token, and a token
  /// service that hands out "T-<n>" for basic credentials alice:pw or an
  /// identity token "refresh-1", and anonymously when `anonymous` is set.
  static func bearerRegistry(anonymous: Bool = false) -> @Sendable (ScriptedRequest) -> ScriptedResponse {
    let issued = Mutex(0)
    return { request in
      if request.path == "/token" {
        let fields = request.method == "POST" ? ScriptedRequest.fields(Substring(String(decoding: request.body, as: UTF8.self))) : request.query
        guard fields["service"] == "scripted", fields["scope"] == "repository:team/app:pull" else {
          return ScriptedResponse(status: 400)
        }
        let basicOK = request.header("Authorization") == "Basic " + Data("alice:pw".utf8).base64EncodedString()
        let refreshOK = request.method == "POST" && fields["grant_type"] == "refresh_token" && fields["refresh_token"] == "refresh-1"
        guard basicOK || refreshOK || (anonymous && request.header("Authorization") == nil) else {
          return ScriptedResponse(status: 401, json: #"{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}"#)
        }
        let number = issued.withLock { count in
          count += 1
          return count
        }
        let key = request.method == "POST" ? "access_token" : "token"
        return ScriptedResponse(status: 200, json: #"{"\#(key)": "T-\#(number)", "expires_in": 300}"#)
      }
      guard let authorization = request.header("Authorization"), authorization.hasPrefix("Bearer T-") else {
        let realm = "http://\(request.header("Host") ?? "")/token"
        return ScriptedResponse(
          status: 401,
          headers: [("WWW-Authenticate", #"Bearer realm="\#(realm)",service="scripted",scope="repository:team/app:pull""#)],
          json: #"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#)
      }
      return manifestResponse()
    }
  }

  @Test func bearerTokenIsFetchedOnceAndReused() async throws {
    try await withScriptedServer(Self.bearerRegistry()) { server in
      try await withClient { client in
        let credentials = Credentials(username: "alice", password: "pw")
        for _ in 0..<3 {
          let manifest = try await client.fetchManifest(Self.endpoint(server), reference: "v1", credentials: credentials)
          #expect(manifest.bytes == Self.manifestBytes)
        }
        // One 401, one token, then every request carries the cached token.
        let paths = server.requests.map { "\($0.path) \($0.header("Authorization") ?? "-")" }
        #expect(paths.filter { $0.hasPrefix("/token") }.count == 1)
        #expect(paths.filter { $0.hasSuffix(" -") }.count == 1)
        #expect(server.requests.filter { $0.header("Authorization") == "Bearer T-1" }.count == 3)
      }
    }
  }

  @Test func anonymousTokensForPublicImages() async throws {
    try await withScriptedServer(Self.bearerRegistry(anonymous: true)) { server in
      try await withClient { client in
        let manifest = try await client.fetchManifest(Self.endpoint(server), reference: "v1", credentials: nil)
        #expect(manifest.bytes == Self.manifestBytes)
        let tokenRequest = try #require(server.requests.first { $0.path == "/token" })
        #expect(tokenRequest.header("Authorization") == nil)
        #expect(tokenRequest.query["account"] == nil)
      }
    }
  }

  @Test func identityTokenUsesTheRefreshTokenGrant() async throws {
    try await withScriptedServer(Self.bearerRegistry()) { server in
      try await withClient { client in
        let manifest = try await client.fetchManifest(
          Self.endpoint(server), reference: "v1", credentials: Credentials(identityToken: "refresh-1"))
        #expect(manifest.bytes == Self.manifestBytes)
        let tokenRequest = try #require(server.requests.first { $0.path == "/token" })
        #expect(tokenRequest.method == "POST")
        #expect(tokenRequest.header("Content-Type") == "application/x-www-form-urlencoded")
      }
    }
  }

  @Test func tokenServiceRefusalIsUnauthorized() async throws {
    try await withScriptedServer(Self.bearerRegistry()) { server in
      try await withClient { client in
        let error = await registryError {
          _ = try await client.fetchManifest(
            Self.endpoint(server), reference: "v1", credentials: Credentials(username: "alice", password: "wrong"))
        }
        guard case .unauthorized(let registry, let detail) = error else {
          Issue.record("expected unauthorized, got \(String(describing: error))")
          return
        }
        #expect(registry == server.host)
        #expect(detail.contains("rejected the credentials"))
        #expect(detail.contains("bad credentials"))
      }
    }
  }

  @Test func registryTokenIsSentAsIs() async throws {
    try await withScriptedServer(Self.bearerRegistry()) { server in
      try await withClient { client in
        let manifest = try await client.fetchManifest(
          Self.endpoint(server), reference: "v1", credentials: Credentials(registryToken: "T-given"))
        #expect(manifest.bytes == Self.manifestBytes)
        #expect(server.requests.map(\.path) == ["/v2/team/app/manifests/v1"])
        #expect(server.requests.first?.header("Authorization") == "Bearer T-given")
        // A refused registry token is final: there is nothing else to try.
        let refused = await registryError {
          _ = try await client.fetchManifest(Self.endpoint(server), reference: "v1", credentials: Credentials(registryToken: "bad"))
        }
        guard case .unauthorized = refused else {
          Issue.record("expected unauthorized, got \(String(describing: refused))")
          return
        }
      }
    }
  }

  @Test func transientFailuresAreRetried() async throws {
    let calls = Mutex(0)
    try await withScriptedServer({ _ in
      let call = calls.withLock { count in
        count += 1
        return count
      }
      return call == 1 ? ScriptedResponse(status: 503) : call == 2 ? ScriptedResponse(status: 429) : Self.manifestResponse()
    }) { server in
      try await withClient { client in
        let manifest = try await client.fetchManifest(Self.endpoint(server), reference: "v1", credentials: nil)
        #expect(manifest.bytes == Self.manifestBytes)
        #expect(server.requests.count == 3)
      }
    }
  }

  @Test func persistentServerErrorsAreUnavailableAfterThreeAttempts() async throws {
    try await withScriptedServer({ _ in ScriptedResponse(status: 500) }) { server in
      try await withClient { client in
        let error = await registryError {
          _ = try await client.fetchManifest(Self.endpoint(server), reference: "v1", credentials: nil)
        }
        guard case .unavailable(let host, let detail) = error else {
          Issue.record("expected unavailable, got \(String(describing: error))")
          return
        }
        #expect(host == server.host)
        #expect(detail.contains("HTTP 500"))
        #expect(server.requests.count == 3)
      }
    }
  }

  @Test(arguments: [400, 404, 405])
  func clientErrorsAreNotRetried(status: Int) async throws {
    try await withScriptedServer({ _ in ScriptedResponse(status: status) }) { server in
      try await withClient { client in
        let error = await registryError {
          _ = try await client.fetchManifest(Self.endpoint(server), reference: "v1", credentials: nil)
        }
        if status == 404 {
          #expect(error == .notFound(what: "manifest \(server.host)/team/app:v1"))
        } else {
          #expect(error == .badResponse("HTTP \(status) for manifest \(server.host)/team/app:v1"))
        }
        #expect(server.requests.count == 1)
      }
    }
  }

  /// While the meter is held (a wait on our own side) no idle time counts.
  @Test func aHeldMeterIsNeverIdle() async throws {
    let meter = ProgressMeter()
    try await meter.holding {
      try await Task.sleep(for: .milliseconds(300))
      #expect(meter.idle == .zero)
    }
    #expect(meter.idle < .milliseconds(300), "the clock restarts when the hold ends")
  }

  @Test func stalledBlobFailsWithNoProgressAndItsStreamFails() async throws {
    let blob = randomBytes(100_000)
    let digest = Digest.sha256(of: blob)
    try await withScriptedServer({ _ in ScriptedResponse(status: 200, body: blob, stallAfter: 1000) }) { server in
      try await withClient { client in
        let reader = PipeReader()
        async let read = reader.readAll()
        let started = ContinuousClock.now
        let error = await registryError {
          try await client.fetchBlob(
            Self.endpoint(server), digest: digest, expectedSize: Int64(blob.count), credentials: nil,
            into: reader.pipe, progressTimeout: .milliseconds(300))
        }
        #expect(error == .noProgress(seconds: 1))
        // The stalled server never finishes: ending at all shows the
        // watchdog fired (generous bound for a loaded machine).
        #expect(ContinuousClock.now - started < .seconds(30))
        let (bytes, end) = await read
        #expect(bytes == Array(blob[..<1000]))
        guard case .failed = end else {
          Issue.record("a stalled download's stream ended as good")
          return
        }
      }
    }
  }

  /// A consumer slower than the registry holds the download back without
  /// the watchdog taking it for a stalled registry. (The watchdog leaves
  /// the registry 2 s between chunks, for a loaded machine.)
  @Test func aSlowConsumerIsNotAStalledRegistry() async throws {
    // At least four chunks: NIO reads at most 64 KiB at a time.
    let blob = randomBytes(256 << 10)
    let digest = Digest.sha256(of: blob)
    try await withScriptedServer({ _ in ScriptedResponse(status: 200, body: blob) }) { server in
      try await withClient { client in
        let pipe = BytePipe(capacity: 1)
        async let read = Blocking.runOnOwnThread { () -> [UInt8] in
          var bytes: [UInt8] = []
          var chunk = [UInt8](repeating: 0, count: 1 << 18)
          var reads = 0
          while case .bytes(let count) = chunk.withUnsafeMutableBytes({ pipe.read(into: $0) }) {
            bytes += chunk[..<count]
            reads += 1
            // With one chunk in the pipe, the producer waits out these.
            if reads <= 2 { usleep(3_000_000) }
          }
          return bytes
        }
        try await client.fetchBlob(
          Self.endpoint(server), digest: digest, expectedSize: Int64(blob.count), credentials: nil, into: pipe,
          progressTimeout: .seconds(2))
        #expect(await read == blob)
      }
    }
  }

  @Test func cancellingABlobDownloadFailsItsStream() async throws {
    let blob = randomBytes(100_000)
    let digest = Digest.sha256(of: blob)
    try await withScriptedServer({ _ in ScriptedResponse(status: 200, body: blob, stallAfter: 1000) }) { server in
      try await withClient { client in
        let reader = PipeReader()
        async let read = reader.readAll()
        let download = Task {
          await registryError {
            try await client.fetchBlob(
              Self.endpoint(server), digest: digest, expectedSize: nil, credentials: nil, into: reader.pipe,
              progressTimeout: nil)
          }
        }
        // Cancel once the download is under way: bytes have arrived (the
        // bound is for a machine loaded by the whole suite).
        let deadline = ContinuousClock.now + .seconds(120)
        while reader.count == 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(reader.count > 0)
        download.cancel()
        #expect(await download.value == .cancelled)
        guard case .failed = await read.end else {
          Issue.record("a cancelled download's stream ended as good")
          return
        }
      }
    }
  }

  @Test func redirectsAreFollowedWithoutTheRegistryCredentials() async throws {
    let blob = randomBytes(5000)
    let digest = Digest.sha256(of: blob)
    try await withScriptedServer({ _ in ScriptedResponse(status: 200, body: blob) }) { storage in
      try await withScriptedServer({ request in
        ScriptedResponse(status: 307, headers: [("Location", "http://\(storage.host)/bucket/object?sig=1")])
      }) { registry in
        try await withClient { client in
          let bytes = try await client.fetchBlobBytes(
            Self.endpoint(registry), digest: digest, credentials: Credentials(registryToken: "secret"))
          #expect(bytes == blob)
          #expect(registry.requests.first?.header("Authorization") == "Bearer secret")
          #expect(storage.requests.map(\.target) == ["/bucket/object?sig=1"])
          #expect(storage.requests.first?.header("Authorization") == nil)
        }
      }
    }
  }

  @Test func schema1ManifestsAreUnsupported() async throws {
    let schema1 = Array(#"{"schemaVersion": 1, "name": "team/app", "tag": "v1", "fsLayers": []}"#.utf8)
    try await withScriptedServer({ _ in Self.manifestResponse(schema1, type: MediaType.dockerSchema1Signed) }) { server in
      try await withClient { client in
        let error = await registryError {
          _ = try await client.fetchManifest(Self.endpoint(server), reference: "v1", credentials: nil)
        }
        guard case .unsupportedManifest(let message) = error else {
          Issue.record("expected unsupportedManifest, got \(String(describing: error))")
          return
        }
        #expect(message.contains("schema 1"))
      }
    }
  }

  @Test func mediaTypeComesFromTheDocumentWhenContentTypeIsGeneric() async throws {
    try await withScriptedServer({ _ in Self.manifestResponse(type: "application/json; charset=utf-8") }) { server in
      try await withClient { client in
        let manifest = try await client.fetchManifest(Self.endpoint(server), reference: "v1", credentials: nil)
        #expect(manifest.mediaType == MediaType.ociManifest)
      }
    }
  }

  @Test func manifestByDigestMustMatch() async throws {
    try await withScriptedServer({ _ in Self.manifestResponse() }) { server in
      try await withClient { client in
        let error = await registryError {
          _ = try await client.fetchManifest(Self.endpoint(server), reference: sampleDigest.description, credentials: nil)
        }
        #expect(error == .digestMismatch(expected: sampleDigest, actual: Digest.sha256(of: Self.manifestBytes).description))
        let right = Digest.sha256(of: Self.manifestBytes)
        let manifest = try await client.fetchManifest(Self.endpoint(server), reference: right.description, credentials: nil)
        #expect(manifest.digest == right)
      }
    }
  }

  @Test func oversizedConfigIsRefused() async throws {
    let big = [UInt8](repeating: 0x20, count: (8 << 20) + 1)
    try await withScriptedServer({ _ in ScriptedResponse(status: 200, body: big) }) { server in
      try await withClient { client in
        let error = await registryError {
          _ = try await client.fetchBlobBytes(Self.endpoint(server), digest: sampleDigest, credentials: nil)
        }
        guard case .badResponse(let message) = error else {
          Issue.record("expected badResponse, got \(String(describing: error))")
          return
        }
        #expect(message.contains("more than the"))
      }
    }
  }

  @Test func sha512DigestsAreVerified() async throws {
    let blob = randomBytes(3000)
    var hasher = ContentHasher(for: try Digest(parsing: "sha512:" + String(repeating: "0", count: 128)))
    hasher.update(blob)
    let digest = hasher.finalize()
    #expect(digest.algorithm == "sha512")
    try await withScriptedServer({ _ in ScriptedResponse(status: 200, body: blob) }) { server in
      try await withClient { client in
        let bytes = try await client.fetchBlobBytes(Self.endpoint(server), digest: digest, credentials: nil)
        #expect(bytes == blob)
      }
    }
  }
}
