// swift-tools-version:6.2
import PackageDescription

/// Benchmarks live in their own package so that `swift test` never builds them. Run them through the
/// scripts beside this file, which build in release mode and run the peers in the same run.
let package = Package(
    name: "KeelBench",
    platforms: [.macOS(.v14)],
    dependencies: [.package(name: "Keel", path: "..")],
    targets: [
        .executableTarget(name: "csv-read", dependencies: [.product(name: "KeelData", package: "Keel")]),
        .executableTarget(name: "treeshap", dependencies: [
            .product(name: "KeelData", package: "Keel"), .product(name: "KeelLearn", package: "Keel"),
            .product(name: "KeelExplain", package: "Keel"),
        ]),
        .executableTarget(name: "gbdt-train", dependencies: [
            .product(name: "KeelData", package: "Keel"), .product(name: "KeelLearn", package: "Keel"),
        ]),
    ]
)
