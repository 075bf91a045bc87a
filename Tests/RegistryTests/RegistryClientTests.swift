import Foundation
import OCI
@testable import Registry
import Support
import TestFixtures
import Testing

/// The client against Debian's docker-registry, over plain HTTP on loopback.
@Suite(.timeLimit(.minutes(2)))
struct RegistryClientTests {
  static func endpoint(_ server: RegistryServer, _ repository: String) -> Endpoint {
    Endpoint(host: server.host, repository: repository, insecure: true)
  }

  @Test func fetchesManifestByTagAndByDigest() async throws {
    try await RegistryServer.withRunning { server in
      let (image, _) = try await pushTestImage(ImagePusher(host: server.host), repository: "team/app", tag: "v1")
      try await withClient { client in
        let endpoint = Self.endpoint(server, "team/app")
        let byTag = try await client.fetchManifest(endpoint, reference: "v1", credentials: nil)
        #expect(byTag.bytes == image.manifestBytes)
        #expect(byTag.mediaType == MediaType.ociManifest)
        #expect(byTag.digest == image.manifestDigest)
        let byDigest = try await client.fetchManifest(endpoint, reference: image.manifestDigest.description, credentials: nil)
        #expect(byDigest == byTag)
        let manifest = try OCIJSON.decode(ImageManifest.self, from: byDigest.bytes, kind: "manifest")
        #expect(manifest.config.digest == image.configDigest)
      }
    }
  }

  @Test func fetchesDockerManifestsAndIndexes() async throws {
    try await RegistryServer.withRunning { server in
      let pusher = ImagePusher(host: server.host)
      let (docker, _) = try await pushTestImage(pusher, repository: "app", tag: "docker", manifestMediaType: MediaType.dockerManifest)
      let indexDigest = try await pusher.pushIndex(
        repository: "app", tag: "multi", manifests: [(docker, Platform(os: "linux", architecture: "amd64"))])
      try await withClient { client in
        let endpoint = Self.endpoint(server, "app")
        let manifest = try await client.fetchManifest(endpoint, reference: "docker", credentials: nil)
        #expect(manifest.mediaType == MediaType.dockerManifest)
        let index = try await client.fetchManifest(endpoint, reference: "multi", credentials: nil)
        #expect(index.mediaType == MediaType.ociIndex)
        #expect(index.digest == indexDigest)
        let decoded = try OCIJSON.decode(ImageIndex.self, from: index.bytes, kind: "index")
        #expect(try Platform.select(from: decoded.manifests, for: Platform(os: "linux", architecture: "amd64")).digest == docker.manifestDigest)
      }
    }
  }

  @Test func fetchesBlobsIntoAPipeAndIntoMemory() async throws {
    try await RegistryServer.withRunning { server in
      let (image, layers) = try await pushTestImage(ImagePusher(host: server.host), repository: "app", layerSizes: [3 << 20])
      try await withClient { client in
        let endpoint = Self.endpoint(server, "app")
        let layer = image.manifest.layers[0]
        let reader = PipeReader()
        async let read = reader.readAll()
        try await client.fetchBlob(
          endpoint, digest: layer.digest, expectedSize: layer.size, credentials: nil, into: reader.pipe,
          progressTimeout: .seconds(30))
        let (bytes, end) = await read
        #expect(bytes == layers[0])
        #expect(end == .end)
        let config = try await client.fetchBlobBytes(endpoint, digest: image.configDigest, credentials: nil)
        #expect(config == image.configBytes)
      }
    }
  }

  /// A tampered blob reaches its consumer, which never sees it end as good.
  @Test func tamperedBlobIsRejectedAndItsStreamFails() async throws {
    try await RegistryServer.withRunning { server in
      let (image, layers) = try await pushTestImage(ImagePusher(host: server.host), repository: "app", layerSizes: [50_000])
      let layer = image.manifest.layers[0]
      // Same length, one byte different: only the digest can tell.
      var tampered = layers[0]
      tampered[1234] ^= 0xff
      try Data(tampered).write(to: URL(fileURLWithPath: server.blobDataPath(layer.digest)))
      try await withClient { client in
        let reader = PipeReader()
        async let read = reader.readAll()
        let error = await registryError {
          try await client.fetchBlob(
            Self.endpoint(server, "app"), digest: layer.digest, expectedSize: layer.size, credentials: nil,
            into: reader.pipe, progressTimeout: nil)
        }
        guard case .digestMismatch(let expected, let actual) = error else {
          Issue.record("expected a digest mismatch, got \(String(describing: error))")
          return
        }
        #expect(expected == layer.digest)
        #expect(actual == Digest.sha256(of: tampered).description)
        guard case .failed(let reason) = await read.end else {
          Issue.record("the stream of a tampered blob ended as good")
          return
        }
        #expect(reason.contains(layer.digest.description), "\(reason)")
      }
    }
  }

  @Test func wrongExpectedSizeIsRejectedAndItsStreamFails() async throws {
    try await RegistryServer.withRunning { server in
      let (image, _) = try await pushTestImage(ImagePusher(host: server.host), repository: "app", layerSizes: [4096])
      let layer = image.manifest.layers[0]
      try await withClient { client in
        let reader = PipeReader()
        async let read = reader.readAll()
        let error = await registryError {
          try await client.fetchBlob(
            Self.endpoint(server, "app"), digest: layer.digest, expectedSize: layer.size + 1, credentials: nil,
            into: reader.pipe, progressTimeout: nil)
        }
        guard case .digestMismatch = error else {
          Issue.record("expected a size mismatch, got \(String(describing: error))")
          return
        }
        guard case .failed = await read.end else {
          Issue.record("the stream of a short blob ended as good")
          return
        }
      }
    }
  }

  @Test func tamperedConfigIsRejected() async throws {
    try await RegistryServer.withRunning { server in
      let (image, _) = try await pushTestImage(ImagePusher(host: server.host), repository: "app", layerSizes: [10])
      var bytes = image.configBytes
      bytes[0] = UInt8(ascii: " ")
      try Data(bytes).write(to: URL(fileURLWithPath: server.blobDataPath(image.configDigest)))
      try await withClient { client in
        let error = await registryError {
          _ = try await client.fetchBlobBytes(Self.endpoint(server, "app"), digest: image.configDigest, credentials: nil)
        }
        #expect(error == .digestMismatch(expected: image.configDigest, actual: Digest.sha256(of: bytes).description))
      }
    }
  }

  @Test func unknownManifestAndBlobAreNotFound() async throws {
    try await RegistryServer.withRunning { server in
      _ = try await pushTestImage(ImagePusher(host: server.host), repository: "app", layerSizes: [10])
      try await withClient { client in
        let endpoint = Self.endpoint(server, "app")
        let missingTag = await registryError { _ = try await client.fetchManifest(endpoint, reference: "nope", credentials: nil) }
        #expect(missingTag == .notFound(what: "manifest \(server.host)/app:nope"))
        let missingRepository = await registryError {
          _ = try await client.fetchManifest(Self.endpoint(server, "other"), reference: "latest", credentials: nil)
        }
        #expect(missingRepository == .notFound(what: "manifest \(server.host)/other:latest"))
        let missingBlob = await registryError {
          _ = try await client.fetchBlobBytes(endpoint, digest: sampleDigest, credentials: nil)
        }
        #expect(missingBlob == .notFound(what: "blob \(server.host)/app@\(sampleDigest)"))
      }
    }
  }

  @Test func registryDownIsUnavailableQuickly() async throws {
    let port = try RegistryServer.freePort()
    try await withClient(retryDelays: [.milliseconds(200), .milliseconds(400)]) { client in
      let started = ContinuousClock.now
      let error = await registryError {
        _ = try await client.fetchManifest(
          Endpoint(host: "127.0.0.1:\(port)", repository: "app", insecure: true), reference: "latest", credentials: nil)
      }
      guard case .unavailable(let host, let detail) = error else {
        Issue.record("expected unavailable, got \(String(describing: error))")
        return
      }
      #expect(host == "127.0.0.1:\(port)")
      #expect(detail.contains("connection refused"))
      // Not a speed figure: a refused connection must not wait out the
      // 30 s connect timeout of each of the three attempts (90 s); the
      // bound leaves room for a CI machine loaded by the whole suite.
      #expect(ContinuousClock.now - started < .seconds(60))
    }
  }

  @Test func secureEndpointRefusesAPlainHTTPRegistry() async throws {
    try await RegistryServer.withRunning { server in
      _ = try await pushTestImage(ImagePusher(host: server.host), repository: "app", layerSizes: [10])
      try await withClient { client in
        let error = await registryError {
          _ = try await client.fetchManifest(
            Endpoint(host: server.host, repository: "app", insecure: false), reference: "latest", credentials: nil)
        }
        guard case .unavailable(let host, _) = error else {
          Issue.record("expected unavailable, got \(String(describing: error))")
          return
        }
        #expect(host == server.host)
        // The insecure endpoint falls back to plain HTTP and works.
        let manifest = try await client.fetchManifest(Self.endpoint(server, "app"), reference: "latest", credentials: nil)
        #expect(manifest.mediaType == MediaType.ociManifest)
      }
    }
  }

  @Test func basicAuthWithRightWrongAndMissingCredentials() async throws {
    try await RegistryServer.withRunning(basicAuth: (user: "alice", password: "s3cret!")) { server in
      let pusher = ImagePusher(host: server.host, credentials: ("alice", "s3cret!"))
      let (image, _) = try await pushTestImage(pusher, repository: "private/app", layerSizes: [100])
      let endpoint = Self.endpoint(server, "private/app")
      try await withClient { client in
        let right = Credentials(username: "alice", password: "s3cret!")
        let manifest = try await client.fetchManifest(endpoint, reference: "latest", credentials: right)
        #expect(manifest.digest == image.manifestDigest)
        let config = try await client.fetchBlobBytes(endpoint, digest: image.configDigest, credentials: right)
        #expect(config == image.configBytes)
      }
      // `auth` (base64 user:password) alone works too; a fresh client has
      // learnt nothing from the one above.
      try await withClient { client in
        let encoded = Credentials(auth: Data("alice:s3cret!".utf8).base64EncodedString())
        let manifest = try await client.fetchManifest(endpoint, reference: "latest", credentials: encoded)
        #expect(manifest.digest == image.manifestDigest)
      }
      try await withClient { client in
        let wrong = await registryError {
          _ = try await client.fetchManifest(endpoint, reference: "latest", credentials: Credentials(username: "alice", password: "nope"))
        }
        guard case .unauthorized(let registry, let detail) = wrong else {
          Issue.record("expected unauthorized, got \(String(describing: wrong))")
          return
        }
        #expect(registry == server.host)
        #expect(detail.contains("rejected the credentials"))
        let missing = await registryError {
          _ = try await client.fetchManifest(endpoint, reference: "latest", credentials: nil)
        }
        guard case .unauthorized(_, let missingDetail) = missing else {
          Issue.record("expected unauthorized, got \(String(describing: missing))")
          return
        }
        #expect(missingDetail.contains("none were given"))
      }
    }
  }
}
