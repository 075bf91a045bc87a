import FoundationEssentials
import OCI
import Testing

@Suite struct DigestTests {
  @Test(arguments: [
    "sha256:" + String(repeating: "a", count: 64),
    "sha512:" + String(repeating: "0", count: 128),
  ])
  func validDigestsParse(text: String) throws {
    let digest = try Digest(parsing: text)
    #expect(digest.description == text)
  }

  @Test(arguments: [
    "", "sha256", "sha256:", "md5:" + String(repeating: "a", count: 32),
    "sha256:" + String(repeating: "A", count: 64),
    "sha256:" + String(repeating: "a", count: 63),
    "sha256:" + String(repeating: "g", count: 64),
    "sha256:../../" + String(repeating: "a", count: 58),
  ])
  func invalidDigestsAreRejected(text: String) {
    #expect(throws: OCIError.self) { try Digest(parsing: text) }
  }

  @Test func sha256OfKnownInput() {
    // sha256("abc") from FIPS 180-2.
    #expect(Digest.sha256(of: Array("abc".utf8)).hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
  }

  @Test func chainIDsFollowTheImageSpec() throws {
    let a = Digest.sha256(of: Array("a".utf8))
    let b = Digest.sha256(of: Array("b".utf8))
    let c = Digest.sha256(of: Array("c".utf8))
    let chain = chainIDs(of: [a, b, c])
    #expect(chain[0] == a)
    #expect(chain[1] == Digest.sha256(of: Array("\(a) \(b)".utf8)))
    #expect(chain[2] == Digest.sha256(of: Array("\(chain[1]) \(c)".utf8)))
    #expect(chainIDs(of: []).isEmpty)
  }
}

@Suite struct DocumentTests {
  @Test func dockerConfigDecodes() throws {
    let json = """
      {"architecture":"amd64","os":"linux","config":{"User":"1000:1000","Env":["PATH=/bin"],
      "Entrypoint":["/bin/sh"],"Cmd":["-c","true"],"WorkingDir":"/srv","Volumes":{"/data":{}},
      "ExposedPorts":{"80/tcp":{}},"StopSignal":"SIGQUIT","Labels":{"a":"b"}},
      "rootfs":{"type":"layers","diff_ids":["sha256:\(String(repeating: "1", count: 64))"]}}
      """
    let config = try OCIJSON.decode(ImageConfiguration.self, from: Array(json.utf8), kind: "image config")
    #expect(config.config?.user == "1000:1000")
    #expect(config.config?.entrypoint == ["/bin/sh"])
    #expect(config.config?.volumes?.keys.sorted() == ["/data"])
    #expect(config.config?.stopSignal == "SIGQUIT")
    #expect(config.rootfs.diffIDs.count == 1)
  }

  @Test func malformedDocumentsGiveATypedError() {
    #expect(throws: OCIError.self) {
      try OCIJSON.decode(ImageManifest.self, from: Array(#"{"schemaVersion":2,"layers":[]}"#.utf8), kind: "manifest")
    }
    #expect(throws: OCIError.self) {
      try OCIJSON.decode(ImageManifest.self, from: Array(#"{"config":{"digest":"sha256:zz","size":1,"mediaType":"x"},"layers":[],"schemaVersion":2}"#.utf8), kind: "manifest")
    }
  }

  @Test func manifestRoundTripsWithStableBytes() throws {
    let digest = Digest.sha256(of: Array("layer".utf8))
    let manifest = ImageManifest(
      config: Descriptor(mediaType: MediaType.ociConfig, digest: digest, size: 5),
      layers: [Descriptor(mediaType: MediaType.ociLayerGzip, digest: digest, size: 9)])
    let bytes = OCIJSON.encode(manifest)
    #expect(OCIJSON.encode(try OCIJSON.decode(ImageManifest.self, from: bytes, kind: "manifest")) == bytes)
    #expect(OCIJSON.declaredMediaType(of: bytes) == MediaType.ociManifest)
  }

  @Test func mediaTypesAreClassified() {
    #expect(MediaType.layerCompression(MediaType.dockerLayerGzip) == .gzip)
    #expect(MediaType.layerCompression(MediaType.ociLayerZstd) == .zstd)
    #expect(MediaType.layerCompression(MediaType.ociLayer) == LayerCompression.none)
    #expect(MediaType.layerCompression(MediaType.ociConfig) == nil)
    #expect(MediaType.isIndex(MediaType.dockerManifestList))
    #expect(OCIJSON.declaredMediaType(of: Array(#"{"schemaVersion":1,"fsLayers":[]}"#.utf8)) == MediaType.dockerSchema1)
    #expect(OCIError.unsupportedMediaType(MediaType.dockerSchema1Signed).description.contains("schema 1"))
  }
}

@Suite struct PlatformTests {
  static func entry(_ os: String, _ arch: String, _ variant: String? = nil) -> Descriptor {
    Descriptor(
      mediaType: MediaType.ociManifest, digest: .sha256(of: Array("\(os)/\(arch)/\(variant ?? "")".utf8)), size: 1,
      platform: Platform(os: os, architecture: arch, variant: variant))
  }

  @Test func selectsTheNodePlatform() throws {
    let index = [Self.entry("linux", "arm64", "v8"), Self.entry("linux", "amd64"), Self.entry("windows", "amd64")]
    let chosen = try Platform.select(from: index, for: Platform(os: "linux", architecture: "amd64"))
    #expect(chosen.platform?.architecture == "amd64")
    #expect(chosen.platform?.os == "linux")
  }

  @Test func armVariantsPreferExactThenPlain() throws {
    let index = [Self.entry("linux", "arm", "v6"), Self.entry("linux", "arm", "v7"), Self.entry("linux", "arm64")]
    #expect(try Platform.select(from: index, for: Platform(os: "linux", architecture: "arm", variant: "v7")).platform?.variant == "v7")
    // arm64 without a variant is v8.
    #expect(try Platform.select(from: index, for: Platform(os: "linux", architecture: "arm64", variant: "v8")).platform?.architecture == "arm64")
  }

  @Test func noMatchNamesWhatIsThere() {
    do {
      _ = try Platform.select(from: [Self.entry("linux", "s390x")], for: Platform(os: "linux", architecture: "amd64"))
      Issue.record("selected a foreign platform")
    } catch {
      #expect(error.description.contains("linux/s390x"))
      #expect(error.description.contains("linux/amd64"))
    }
  }
}
