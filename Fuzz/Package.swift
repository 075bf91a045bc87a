// swift-tools-version:6.1
import PackageDescription

// libFuzzer targets for the parsers that read untrusted bytes, one executable
// per parser. A package of its own, so `swift build --build-tests` at the root
// never sees them; it links the root package's modules through the library
// products listed there. Scripts/fuzz.sh builds it with
//
//   swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
//
// -sanitize applies to every Swift module of the graph, so coverage guides
// the fuzzer through the project's parsers (C and C++ dependencies, and the
// system's libarchive and zlib, are not instrumented). Release, because the
// parsers run several times faster optimised, which is what the long runs
// need. -parse-as-library because no target has top-level code: each has
// LLVMFuzzerTestOneInput and a `<module>_main` (SwiftPM links an
// executable's main() to that name) that starts libFuzzer's driver; see
// FuzzSupport.runFuzzer.
let package = Package(
  name: "crio-fuzz",
  platforms: [.macOS(.v15)],
  dependencies: [
    // The name keeps `package: "crio-swift"` valid whatever the checkout's folder is called.
    .package(name: "crio-swift", path: ".."),
    .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
  ],
  targets: [
    // Byte helpers the targets share: splitting an input into chunks, gzip.
    .target(name: "FuzzSupport", dependencies: ["CLibFuzzer"]),
    // libFuzzer's driver entry, which each target's main calls (see FuzzSupport).
    .target(name: "CLibFuzzer"),
    // crio.conf text through ConfigLoader; what loads must render and load back.
    .executableTarget(name: "fuzz-config", dependencies: ["FuzzSupport", .product(name: "Config", package: "crio-swift")]),
    // registries.conf text, then name resolution with the result.
    .executableTarget(name: "fuzz-registries", dependencies: ["FuzzSupport", .product(name: "Registry", package: "crio-swift")]),
    // policy.json, then policy decisions.
    .executableTarget(name: "fuzz-policy", dependencies: ["FuzzSupport", .product(name: "Registry", package: "crio-swift")]),
    // WWW-Authenticate challenges from registries, and image references.
    .executableTarget(
      name: "fuzz-registry-text", dependencies: ["FuzzSupport", .product(name: "Registry", package: "crio-swift")]),
    // Image manifests, indexes and configs as the puller decodes them.
    .executableTarget(name: "fuzz-oci", dependencies: ["FuzzSupport", .product(name: "OCI", package: "crio-swift")]),
    // A layer blob (tar, gzip or zstd) unpacked into a scratch directory.
    .executableTarget(
      name: "fuzz-unpack", dependencies: ["FuzzSupport", .product(name: "Storage", package: "crio-swift")]),
    // SPDY/3.1 frames (with zlib header blocks) and bare header blocks.
    .executableTarget(
      name: "fuzz-spdy",
      dependencies: [
        "FuzzSupport",
        .product(name: "StreamingWire", package: "crio-swift"),
        .product(name: "NIOCore", package: "swift-nio"),
      ]),
    // WebSocket bytes through NIO's decoder and the server's channel handlers;
    // resize messages through TerminalSizeDecoder.
    .executableTarget(
      name: "fuzz-websocket",
      dependencies: [
        "FuzzSupport",
        .product(name: "Streaming", package: "crio-swift"),
        .product(name: "StreamingWire", package: "crio-swift"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOEmbedded", package: "swift-nio"),
        .product(name: "NIOWebSocket", package: "swift-nio"),
      ]),
    // Kubernetes channel messages (binary and base64) and their base64.
    .executableTarget(name: "fuzz-channels", dependencies: ["FuzzSupport", .product(name: "StreamingWire", package: "crio-swift")]),
    // CNI plugin results, result cache files and network configs.
    .executableTarget(name: "fuzz-cni", dependencies: ["FuzzSupport", .product(name: "PodNetwork", package: "crio-swift")]),
    // The first bytes of a connection on the daemon's socket: HTTP/2 or an
    // HTTP/1 inspection request.
    .executableTarget(
      name: "fuzz-http1", dependencies: ["FuzzSupport", .product(name: "Support", package: "crio-swift")]),
  ]
)
