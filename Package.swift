// swift-tools-version:6.1
import PackageDescription

// Dependencies point downwards only: crio -> Server -> (Config, ...) -> OCI.
// CRIAPI (generated gRPC code) is used by Server and by test clients alone.
let package = Package(
  name: "crio-swift",
  platforms: [.macOS(.v15)],
  products: [
    .executable(name: "crio", targets: ["crio"]),
    .executable(name: "crio-bench", targets: ["crio-bench"]),
    // The pod monitor (runtime_type = "pod"), installed beside crio.
    .executable(name: "crio-monitor", targets: ["crio-monitor"]),
    // Libraries for the fuzz package in Fuzz/ (its own Package.swift, so the
    // fuzzers stay out of this package's build); nothing else links them.
    .library(name: "Config", targets: ["Config"]),
    .library(name: "OCI", targets: ["OCI"]),
    .library(name: "PodNetwork", targets: ["PodNetwork"]),
    .library(name: "Registry", targets: ["Registry"]),
    .library(name: "Support", targets: ["Support"]),
    .library(name: "Storage", targets: ["Storage"]),
    .library(name: "Streaming", targets: ["Streaming"]),
    .library(name: "StreamingWire", targets: ["StreamingWire"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    // Already in the graph (under grpc-swift-nio-transport); named for the
    // Server's per-stream request size check, which reads HTTP/2 frames.
    .package(url: "https://github.com/apple/swift-nio-http2", from: "1.46.0"),
    .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
    .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
    .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
    .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
    .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
    // The metrics endpoint ([crio.metrics]): swift-prometheus's registry and
    // exposition, on swift-metrics' types.
    .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
    // Already in the graph (under grpc-swift-nio-transport); named for the
    // metrics endpoint's self-signed certificate, as CRI-O makes one.
    .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
    .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
  ],
  targets: [
    .plugin(name: "BuildInfoPlugin", capability: .buildTool()),
    .target(name: "BuildInfo", plugins: ["BuildInfoPlugin"]),
    // The pod's PID 1 for a shared PID namespace: pause.c, compiled by the
    // plugin into a static, libc-free executable whose bytes are embedded.
    .plugin(name: "PodInitPlugin", capability: .buildTool()),
    .target(name: "PodInit", dependencies: ["Support"], exclude: ["pause.c"], plugins: ["PodInitPlugin"]),
    // Foundation-free helpers every target may use: files, sockets,
    // processes, JSON and quoting.
    .target(name: "Support", dependencies: ["CSupport"]),
    // Linux headers Swift's Glibc module leaves out (<sys/xattr.h>).
    .target(name: "CSupport"),
    .target(
      name: "CRIAPI",
      dependencies: [
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        .product(name: "GRPCCore", package: "grpc-swift-2"),
        .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
      ]
    ),
    // Image-spec and runtime-spec models, digests, media types, platforms.
    .target(
      name: "OCI",
      dependencies: [.product(name: "Crypto", package: "swift-crypto")]
    ),
    // References, registries.conf, policy.json, and the distribution client.
    .target(
      name: "Registry",
      dependencies: [
        "OCI",
        "Support",
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "TOMLKit", package: "TOMLKit"),
      ]
    ),
    // libarchive from Debian (libarchive-dev's headers) for layer tarballs,
    // opened at the first unpack rather than linked (CArchive.h says why).
    .target(name: "CArchive"),
    // SQLite from Debian (libsqlite3-dev): the metadata database. A thin
    // wrapper of our own rather than GRDB, whose Foundation import alone
    // linked Foundation and ICU's 34 MB data table into the daemon.
    .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
    .target(name: "SQLite", dependencies: ["CSQLite"]),
    // Blobs, unpacked layers and image records on disk.
    .target(
      name: "Storage",
      dependencies: [
        "CArchive",
        "CSupport",
        "OCI",
        "Support",
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "Logging", package: "swift-log"),
        "SQLite",
      ]
    ),
    // The pod monitor's wire protocol, shared by the daemon and
    // crio-monitor: Glibc and the standard library only, like the monitor.
    .target(name: "MonitorWire"),
    // Linux calls the monitor needs that Swift cannot make (prctl,
    // SCM_RIGHTS, signalfd): its own, so CSupport's users are not rebuilt.
    .target(name: "CMonitor"),
    // The pod monitor itself, a library so its parts are unit-tested; no
    // Foundation, no Dispatch, no NIO: a poll loop on one thread, so each
    // pod's monitor costs little memory.
    .target(name: "PodMonitor", dependencies: ["CMonitor", "CSupport", "MonitorWire"]),
    .executableTarget(name: "crio-monitor", dependencies: ["PodMonitor"]),
    // OCI bundles, runtime handlers, conmon + runc, namespace pinning.
    .target(
      name: "Runtime",
      dependencies: [
        "CMonitor",
        "CSupport",
        "MonitorWire",
        "OCI",
        "Support",
        .product(name: "Logging", package: "swift-log"),
      ]
    ),
    // Seccomp profiles, capabilities, masked paths, devices, LSM checks and
    // checks of untrusted values: the security half of a container's spec.
    .target(name: "ContainerSecurity", dependencies: ["OCI", "Support"]),
    // libyaml from Debian (libyaml-dev) for CDI specs written in YAML.
    .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
    // What files on the host add to a container's spec: OCI hooks from
    // hooks.d directories and CDI devices from their spec directories.
    .target(name: "SpecInjection", dependencies: ["ContainerSecurity", "CYAML", "OCI", "Support"]),
    // Pod network plumbing: pinned namespaces and CNI. Not named
    // "Network": AsyncHTTPClient's `canImport(Network)` (Apple's framework)
    // would pick it up.
    .target(
      name: "PodNetwork",
      dependencies: ["Support", "OCI"]
    ),
    // zlib from Debian (zlib1g-dev) for SPDY/3 header compression.
    .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
    // Wire formats the streaming server and its test client share: SPDY/3.1
    // frames and header compression, Kubernetes channel framing, protocol names.
    .target(
      name: "StreamingWire",
      dependencies: ["CZlib", .product(name: "NIOCore", package: "swift-nio")]
    ),
    // The exec/attach/port-forward HTTP server (SPDY/3.1 and WebSocket).
    .target(
      name: "Streaming",
      dependencies: [
        "StreamingWire",
        "Support",
        .product(name: "Logging", package: "swift-log"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
        .product(name: "NIOWebSocket", package: "swift-nio"),
        .product(name: "NIOSSL", package: "swift-nio-ssl"),
      ]
    ),
    // The client side of those protocols, for integration tests and benchmarks.
    .target(
      name: "StreamingClient",
      dependencies: [
        "StreamingWire",
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
        .product(name: "NIOWebSocket", package: "swift-nio"),
      ]
    ),
    .target(
      name: "Config",
      dependencies: [
        "Support",
        .product(name: "TOMLKit", package: "TOMLKit"),
      ]
    ),
    .target(
      name: "Server",
      dependencies: [
        "BuildInfo",
        "ContainerSecurity",
        "CSupport",
        "PodInit",
        "SpecInjection",
        "Streaming",
        "CRIAPI",
        "PodNetwork",
        "OCI",
        "Registry",
        "Runtime",
        "Storage",
        "SQLite",
        "Support",
        "Config",
        .product(name: "GRPCCore", package: "grpc-swift-2"),
        .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
        .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
        // Response sizes for grpc_max_send_msg_size.
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOHPACK", package: "swift-nio-http2"),
        .product(name: "NIOHTTP2", package: "swift-nio-http2"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOSSL", package: "swift-nio-ssl"),
        .product(name: "Metrics", package: "swift-metrics"),
        .product(name: "Prometheus", package: "swift-prometheus"),
        .product(name: "X509", package: "swift-certificates"),
        .product(name: "SwiftASN1", package: "swift-asn1"),
        .product(name: "Crypto", package: "swift-crypto"),
      ]
    ),
    .executableTarget(
      name: "crio",
      dependencies: [
        "BuildInfo",
        "Config",
        "PodNetwork",
        "Server",
        "Support",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Logging", package: "swift-log"),
      ],
      exclude: ["Link"],
      // The installed binary's size (release builds): GNU ld packs the
      // relative relocations of a position-independent executable (3 MB
      // less; glibc 2.36+ reads them) and exports nothing (Link/exports.map).
      // Not gold, Swift's default: it cannot pack them. Not lld: it takes
      // weak symbols FoundationEssentials shares with Foundation from
      // libFoundation.a, and links all of Foundation and ICU for them.
      // Link/crio.ld is ld's own layout with the code start-up and a pod's
      // lifecycle run first (Link/hot-code.ld, Scripts/hot-code-order.sh):
      // an idle daemon maps half the code. SwiftPM relinks on neither
      // file's change: remove the built crio after editing them.
      linkerSettings: [
        .unsafeFlags(
          [
            "-use-ld=bfd", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs", "-Xlinker", "-z", "-Xlinker", "relro", "-Xlinker", "-z", "-Xlinker", "now",
            // -L first: ld reads the script, and its INCLUDE, where -T stands.
            "-Xlinker", "-L", "-Xlinker", "\(Context.packageDirectory)/Sources/crio/Link",
            "-Xlinker", "-T", "-Xlinker", "\(Context.packageDirectory)/Sources/crio/Link/crio.ld",
            "-Xlinker", "--version-script=\(Context.packageDirectory)/Sources/crio/Link/exports.map",
          ], .when(configuration: .release))
      ]
    ),
    // Benchmarks print figures; they never assert timings.
    .executableTarget(
      name: "crio-bench",
      dependencies: [
        "CRIAPI",
        "CRIClient",
        "OCI",
        "StreamingClient",
        "TestFixtures",
        "Support",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    // A CRI client on the generated stubs and a daemon launcher, shared by the
    // integration tests and the benchmarks.
    .target(
      name: "CRIClient",
      dependencies: [
        "CRIAPI",
        "Support",
        .product(name: "GRPCCore", package: "grpc-swift-2"),
        .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
      ]
    ),
    // Real registries and crafted images for tests and benchmarks: starts
    // Debian's docker-registry on loopback, pushes images the tests build.
    .target(
      name: "TestFixtures",
      dependencies: [
        "OCI",
        "Support",
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "NIOCore", package: "swift-nio"),
      ]
    ),
    .testTarget(
      name: "CRIAPITests",
      dependencies: ["CRIAPI", .product(name: "SwiftProtobuf", package: "swift-protobuf")]
    ),
    .testTarget(name: "ConfigTests", dependencies: ["Config", "Support"], exclude: ["Fixtures"]),
    .testTarget(name: "OCITests", dependencies: ["OCI"]),
    .testTarget(name: "ContainerSecurityTests", dependencies: ["ContainerSecurity", "OCI", "Support"]),
    .testTarget(name: "SpecInjectionTests", dependencies: ["SpecInjection", "OCI", "Support"]),
    .testTarget(name: "RuntimeTests", dependencies: ["Runtime", "OCI", "Support"]),
    .testTarget(name: "MonitorTests", dependencies: ["MonitorWire", "PodMonitor"]),
    .testTarget(name: "PodNetworkTests", dependencies: ["PodNetwork", "Support", "CSupport", "OCI", "CRIClient"]),
    .testTarget(
      name: "ServerTests",
      dependencies: [
        "Server", "CRIAPI", "Config", "OCI", "PodNetwork", "Runtime", "Storage", "Support",
        .product(name: "Logging", package: "swift-log"), .product(name: "NIOCore", package: "swift-nio"),
      ]
    ),
    .testTarget(name: "RegistryTests", dependencies: ["Registry", "OCI", "Support", "TestFixtures"]),
    .testTarget(name: "StorageTests", dependencies: ["Storage", "OCI", "Support", "CArchive", "SQLite", "TestFixtures"]),
    .testTarget(
      name: "StreamingTests",
      dependencies: [
        "Streaming", "StreamingClient", "StreamingWire",
        .product(name: "Logging", package: "swift-log"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOEmbedded", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
      ]
    ),
    .testTarget(
      name: "IntegrationTests",
      dependencies: [
        "CRIAPI",
        "CRIClient",
        // The pod init's pause binary, for the tests' pause image.
        "PodInit",
        "StreamingClient",
        "Support",
        "TestFixtures",
        "OCI",
        .product(name: "GRPCCore", package: "grpc-swift-2"),
      ],
      // The Python clients some tests run (grpcio, prometheus_client), read from the source tree.
      exclude: ["Python"]
    ),
  ]
)

// Extension members resolve only from modules a file imports itself. Without
// this, `"a".contains("b")` in a module that reaches Foundation through a
// dependency picks Foundation's overload and links all of Foundation and
// ICU's data into the daemon.
for target in package.targets where target.type == .regular || target.type == .executable {
  target.swiftSettings = (target.swiftSettings ?? []) + [.enableUpcomingFeature("MemberImportVisibility")]
}
