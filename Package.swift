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
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
    .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
    .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
    .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
  ],
  targets: [
    .plugin(name: "BuildInfoPlugin", capability: .buildTool()),
    .target(name: "BuildInfo", plugins: ["BuildInfoPlugin"]),
    // Foundation-free helpers every target may use: files, sockets,
    // processes, JSON and quoting.
    .target(name: "Support"),
    .target(
      name: "CRIAPI",
      dependencies: [
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        .product(name: "GRPCCore", package: "grpc-swift-2"),
        .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
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
        "CRIAPI",
        "Support",
        "Config",
        .product(name: "GRPCCore", package: "grpc-swift-2"),
        .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
        .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
      ]
    ),
    .executableTarget(
      name: "crio",
      dependencies: [
        "BuildInfo",
        "Config",
        "Server",
        "Support",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Logging", package: "swift-log"),
      ]
    ),
    // Benchmarks print figures; they never assert timings.
    .executableTarget(
      name: "crio-bench",
      dependencies: [
        "CRIAPI",
        "CRIClient",
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
    .testTarget(
      name: "CRIAPITests",
      dependencies: ["CRIAPI", .product(name: "SwiftProtobuf", package: "swift-protobuf")]
    ),
    .testTarget(name: "ConfigTests", dependencies: ["Config", "Support"]),
    .testTarget(
      name: "IntegrationTests",
      dependencies: [
        "CRIAPI",
        "CRIClient",
        "Support",
        .product(name: "GRPCCore", package: "grpc-swift-2"),
      ]
    ),
  ]
)
