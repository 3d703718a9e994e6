// swift-tools-version:6.2
import PackageDescription

/// One set of compiler settings for every target: Swift 6 language mode and explicit `any`. No unsafe flags,
/// so other packages can depend on Keel's libraries; the test command builds optimised (`-c release`
/// with `-enable-testing`), since the learners' loops are 10–50x slower unoptimised.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]


let package = Package(
    name: "Keel",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "keel", targets: ["keel"]),
        .library(name: "KeelData", targets: ["KeelData"]),
        .library(name: "KeelLearn", targets: ["KeelLearn"]),
        .library(name: "KeelExplain", targets: ["KeelExplain"]),
        .library(name: "KeelMonitor", targets: ["KeelMonitor"]),
        .library(name: "KeelArtifact", targets: ["KeelArtifact"]),
        // Registry write throughput (bench/registry.sh); in this package, not bench/, so that it reuses the
        // release build of the test command instead of building PostgresNIO and GRDB a second time.
        .executable(name: "keel-registry-bench", targets: ["keel-registry-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // The configuration trait pulls in swift-configuration, which Keel does not use (it reads keel.yaml itself).
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        // Parquet pages: snappy (snappy-c.h) and zstd, from Debian's libsnappy-dev and libzstd-dev.
        .systemLibrary(name: "CSnappy", path: "Sources/CSnappy"),
        .systemLibrary(name: "CZstd", path: "Sources/CZstd"),
        .target(name: "KeelData", dependencies: ["CZlib", "CSnappy", "CZstd"], swiftSettings: swiftSettings),
        .target(name: "CKeelIntrinsics"),
        .target(name: "KeelLearn", dependencies: ["KeelData", "CKeelIntrinsics"], swiftSettings: swiftSettings),
        .target(name: "KeelSearch", dependencies: ["KeelData", "KeelLearn"], swiftSettings: swiftSettings),
        .target(name: "KeelSynthetic", dependencies: ["KeelData"], swiftSettings: swiftSettings),
        .target(name: "KeelExplain", dependencies: ["KeelData", "KeelLearn"], swiftSettings: swiftSettings),
        .target(name: "KeelMonitor", dependencies: ["KeelData", "KeelLearn"], swiftSettings: swiftSettings),
        // The model file: format versions, manifest, payload, checksums, signatures, encryption.
        .target(
            name: "KeelArtifact",
            dependencies: ["KeelData", "KeelLearn", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "KeelRegistry",
            dependencies: [
                "KeelData", "KeelLearn", "KeelArtifact",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                // The registry on PostgreSQL, for many users and machines.
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The stages after training: promotion gates, retraining by policy, champion/challenger, shadow,
        // the training recorder; called in-process by the command line.
        .target(
            name: "KeelLifecycle",
            dependencies: ["KeelData", "KeelLearn", "KeelSearch", "KeelExplain", "KeelMonitor", "KeelArtifact", "KeelRegistry"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "KeelServer",
            dependencies: [
                "KeelData", "KeelLearn", "KeelArtifact", "KeelRegistry", "KeelExplain",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "KeelCLI",
            dependencies: [
                "KeelData", "KeelLearn", "KeelSearch", "KeelSynthetic", "KeelArtifact", "KeelRegistry", "KeelLifecycle", "KeelServer", "KeelExplain", "KeelMonitor",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "keel", dependencies: ["KeelCLI"], swiftSettings: swiftSettings),
        .executableTarget(name: "keel-registry-bench", dependencies: ["KeelRegistry", "KeelSearch", "KeelSynthetic", "KeelArtifact", "KeelData"],
                          path: "bench/registry-write", swiftSettings: swiftSettings),
        .target(name: "KeelTestSupport", dependencies: ["KeelData", "KeelLearn", "KeelSynthetic", "KeelSearch", "KeelExplain", "KeelArtifact", "KeelRegistry"],
                path: "Tests/KeelTestSupport",
                swiftSettings: swiftSettings),
        .testTarget(name: "KeelDataTests", dependencies: ["KeelData", "KeelSynthetic", "KeelTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "KeelLearnTests", dependencies: ["KeelLearn", "KeelData", "KeelTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "KeelSearchTests", dependencies: ["KeelSearch", "KeelData", "KeelLearn", "KeelTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "KeelExplainTests", dependencies: ["KeelExplain", "KeelData", "KeelLearn", "KeelTestSupport",
                                                    .product(name: "PropertyBased", package: "swift-property-based")],
                    swiftSettings: swiftSettings),
        .testTarget(name: "KeelInvariantTests", dependencies: ["KeelSearch", "KeelExplain", "KeelData", "KeelLearn", "KeelRegistry", "KeelTestSupport"],
                    swiftSettings: swiftSettings),
        .testTarget(name: "KeelMonitorTests", dependencies: ["KeelMonitor", "KeelData", "KeelTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "KeelArtifactTests", dependencies: ["KeelArtifact", "KeelData", "KeelLearn", "KeelSynthetic", "KeelTestSupport"],
                    swiftSettings: swiftSettings),
        .testTarget(name: "KeelLifecycleTests", dependencies: ["KeelLifecycle", "KeelRegistry", "KeelArtifact", "KeelSearch", "KeelData",
                                                      "KeelLearn", "KeelSynthetic", "KeelTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "KeelRegistryTests", dependencies: ["KeelRegistry", "KeelArtifact", "KeelData", "KeelLearn", "KeelSearch", "KeelTestSupport", "KeelSynthetic",
                                                     .product(name: "GRDB", package: "GRDB.swift"),
                                                     .product(name: "PostgresNIO", package: "postgres-nio"),
                                                     .product(name: "Logging", package: "swift-log")], swiftSettings: swiftSettings),
        .testTarget(name: "KeelCLITests", dependencies: ["KeelCLI", "keel", "KeelTestSupport", "KeelData", "KeelLearn", "KeelSearch", "KeelSynthetic", "KeelArtifact", "KeelRegistry", "KeelServer"], swiftSettings: swiftSettings),
        // The server's router in-process (HummingbirdTesting's .router setup): no process, no port.
        .testTarget(name: "KeelServerTests", dependencies: ["KeelServer", "KeelArtifact", "KeelRegistry", "KeelData", "KeelLearn", "KeelSynthetic",
                                                   "KeelTestSupport",
                                                   .product(name: "Hummingbird", package: "hummingbird"),
                                                   .product(name: "HummingbirdTesting", package: "hummingbird"),
                                                   .product(name: "Logging", package: "swift-log")],
                    swiftSettings: swiftSettings),
    ]
)
