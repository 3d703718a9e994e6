// swift-tools-version:6.2
import PackageDescription

/// One set of compiler settings for every target: Swift 6 language mode and explicit `any`.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

/// The hot-path modules are optimised in debug builds too, so the test suite can train real models on
/// real datasets in seconds (unoptimised Swift is 10–50x slower in these loops).
let hotPathSettings: [SwiftSetting] = swiftSettings + [.unsafeFlags(["-O"])]

let package = Package(
    name: "Keel",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "keel", targets: ["keel"]),
        .library(name: "KeelData", targets: ["KeelData"]),
        .library(name: "KeelLearn", targets: ["KeelLearn"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .target(name: "KeelData", dependencies: ["CZlib"], swiftSettings: hotPathSettings),
        .target(name: "CKeelIntrinsics"),
        .target(name: "KeelLearn", dependencies: ["KeelData", "CKeelIntrinsics"], swiftSettings: hotPathSettings),
        .target(name: "KeelSearch", dependencies: ["KeelData", "KeelLearn"], swiftSettings: swiftSettings),
        .target(name: "KeelSynthetic", dependencies: ["KeelData"], swiftSettings: swiftSettings),
        .target(
            name: "KeelCLI",
            dependencies: [
                "KeelData", "KeelLearn", "KeelSearch", "KeelSynthetic",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "keel", dependencies: ["KeelCLI"], swiftSettings: swiftSettings),
        .target(name: "KeelTestSupport", dependencies: ["KeelData", "KeelLearn", "KeelSynthetic"], path: "Tests/KeelTestSupport",
                swiftSettings: swiftSettings),
        .testTarget(name: "KeelDataTests", dependencies: ["KeelData", "KeelTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "KeelLearnTests", dependencies: ["KeelLearn", "KeelTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "KeelSearchTests", dependencies: ["KeelSearch", "KeelTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "KeelCLITests", dependencies: ["KeelCLI", "keel", "KeelTestSupport"], swiftSettings: swiftSettings),
    ]
)
