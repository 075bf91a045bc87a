import OCI
import Storage
import Support
import TestFixtures
import Testing

/// A layer unpacked from a download as it arrives (a BytePipe fed in small
/// chunks, as the network delivers them) is kept only when the producer ends
/// the stream as good; a failed download, or an archive the unpacker
/// refuses, leaves nothing and stops the other side.
@Suite struct StreamedUnpackTests {
  static func layer() throws -> (tar: TarBuilder, gzip: [UInt8]) {
    var tar = TarBuilder()
    for index in 0..<50 {
      tar.file("files/\(index)", String(repeating: "content \(index) ", count: 500))
    }
    return (tar, try tar.gzip())
  }

  /// Sends `bytes` in 1000-byte chunks, then ends the stream as `end` says
  /// (nil: good); returns whether every chunk was taken.
  static func produce(_ bytes: [UInt8], into pipe: BytePipe, failingWith failure: String? = nil) async -> Bool {
    var offset = 0
    do {
      while offset < bytes.count {
        let end = min(bytes.count, offset + 1000)
        try await pipe.send(Array(bytes[offset..<end]))
        offset = end
      }
    } catch {
      pipe.fail("producer stopped: \(error)")
      return false
    }
    if let failure { pipe.fail(failure) } else { pipe.finish() }
    return true
  }

  static func unpack(_ workspace: Workspace, _ pipe: BytePipe, diffID: Digest) async -> Result<UnpackedLayer, StorageError> {
    let layers = workspace.layers
    return await Blocking.runOnOwnThread {
      defer { pipe.abandon() }
      return Result { () throws(StorageError) in try layers.unpack(.stream(pipe), expectedDiffID: diffID, chainID: diffID) }
    }
  }

  @Test func aGoodStreamIsKept() async throws {
    let workspace = try Workspace()
    let (tar, gzip) = try Self.layer()
    let pipe = BytePipe(capacity: 2)
    async let unpacked = Self.unpack(workspace, pipe, diffID: tar.diffID)
    #expect(await Self.produce(gzip, into: pipe))
    let layer = try await unpacked.get()
    #expect(layer.diffID == tar.diffID)
    #expect(try Files.list(workspace.layers.diffPath(chainID: tar.diffID) + "/files").count == 50)
  }

  /// Every byte decompressed and the diffID right, but the producer's
  /// verdict is a failure (a digest mismatch): nothing is kept.
  @Test func aStreamFailedAtItsEndLeavesNothing() async throws {
    let workspace = try Workspace()
    let (tar, gzip) = try Self.layer()
    let pipe = BytePipe(capacity: 2)
    async let unpacked = Self.unpack(workspace, pipe, diffID: tar.diffID)
    #expect(await Self.produce(gzip, into: pipe, failingWith: "digest mismatch"))
    guard case .failure(.archive(let reason)) = await unpacked else {
      Issue.record("a stream that failed at its end was unpacked")
      return
    }
    #expect(reason == "digest mismatch")
    #expect(workspace.leftovers.isEmpty, "\(workspace.leftovers)")
  }

  /// A corrupt archive stops the unpacker, whose abandoning the pipe stops
  /// the producer before it has sent everything.
  @Test func aBadArchiveStopsTheProducer() async throws {
    let workspace = try Workspace()
    let (tar, gzip) = try Self.layer()
    var corrupt = gzip
    for index in 200..<400 { corrupt[index] ^= 0x5a }
    corrupt += [UInt8](repeating: 0, count: 200_000)
    let pipe = BytePipe(capacity: 2)
    async let unpacked = Self.unpack(workspace, pipe, diffID: tar.diffID)
    #expect(await Self.produce(corrupt, into: pipe) == false, "the producer was stopped")
    guard case .failure = await unpacked else {
      Issue.record("a corrupt archive was unpacked")
      return
    }
    #expect(pipe.abandonedFirst)
    #expect(workspace.leftovers.isEmpty, "\(workspace.leftovers)")
  }
}
