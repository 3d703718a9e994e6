import Foundation
import KeelTestSupport
import Testing

/// `scripts/check-imports`, run by the test command beside SwiftPM's own import check: a module a file
/// imports must be named among its target's dependencies, products of other packages included (SwiftPM's
/// check sees only this package's targets).
@Suite struct ImportCheckTests {
    private func check(_ folder: URL, script: String = "check-imports") throws -> (status: Int32, stderr: String) {
        try ScriptRun.script(script, [folder.path])
    }

    @Test func keelPassesAndAnUndeclaredImportFails() throws {
        let keel = try check(Datasets.packageRoot)
        #expect(keel.status == 0, "\(keel.stderr)")

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("keel-imports-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        for target in ["A", "B"] {
            try FileManager.default.createDirectory(at: folder.appendingPathComponent("Sources/\(target)"), withIntermediateDirectories: true)
        }
        try """
        // swift-tools-version:6.0
        import PackageDescription
        let package = Package(name: "P", targets: [.target(name: "A"), .target(name: "B")])
        """.write(to: folder.appendingPathComponent("Package.swift"), atomically: true, encoding: .utf8)
        try "import Foundation\nimport B\nimport CoreMetrics\n".write(to: folder.appendingPathComponent("Sources/A/A.swift"), atomically: true, encoding: .utf8)
        try "public let b = 1\n".write(to: folder.appendingPathComponent("Sources/B/B.swift"), atomically: true, encoding: .utf8)
        let broken = try check(folder)
        #expect(broken.status == 1)
        #expect(broken.stderr.contains("Sources/A/A.swift:2: target A imports B"), "\(broken.stderr)")
        #expect(broken.stderr.contains("Sources/A/A.swift:3: target A imports CoreMetrics"), "\(broken.stderr)")
        #expect(!broken.stderr.contains("Foundation"))
    }

    /// `scripts/check-layout`: no source file over 400 lines.
    @Test func aSourceFileOver400LinesFailsTheLayoutCheck() throws {
        #expect(try check(Datasets.packageRoot, script: "check-layout").status == 0)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("keel-layout-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("Sources/A"), withIntermediateDirectories: true)
        let long = String(repeating: "let x = 1\n", count: 401)
        try long.write(to: folder.appendingPathComponent("Sources/A/Long.swift"), atomically: true, encoding: .utf8)
        try "let y = 2\n".write(to: folder.appendingPathComponent("Sources/A/Short.swift"), atomically: true, encoding: .utf8)
        let result = try check(folder, script: "check-layout")
        #expect(result.status == 1 && result.stderr.contains("Sources/A/Long.swift: 401 lines"), "\(result.stderr)")
        #expect(!result.stderr.contains("Short.swift"))
    }
}
