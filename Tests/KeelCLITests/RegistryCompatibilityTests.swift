import Foundation
import KeelTestSupport
import Testing

/// A registry folder written by an earlier Keel (Tests/Fixtures/registry) still opens, verifies, predicts
/// exactly what it predicted then, reproduces its run, and takes new versions: moving code between modules
/// or migrating the store must never strand a user's registry.
@Suite struct RegistryCompatibilityTests {
    static let fixtures = Datasets.packageRoot.appendingPathComponent("Tests/Fixtures/registry")

    @Test(arguments: ["written-2026-12-03"])
    func anEarlierRegistryOpensVerifiesPredictsAndTakesNewVersions(name: String) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("keel-compat-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        // A copy: the fixture itself is never written.
        let registry = folder.appendingPathComponent("registry").path
        try FileManager.default.copyItem(atPath: Self.fixtures.appendingPathComponent(name).path, toPath: registry)
        func keel(_ arguments: [String]) throws -> KeelProcess.Result {
            try KeelProcess.run(arguments + ["--registry", registry], in: folder)
        }
        let data = folder.appendingPathComponent("churn.csv").path
        #expect(try KeelProcess.run(["example", "--rows", "300", "--seed", "5", "--out", data], in: folder).status == 0)

        let verify = try keel(["audit", "verify"])
        #expect(verify.status == 0 && verify.stdout.contains("audit log intact: 4 entries"), "\(verify.stdout)\(verify.stderr)")
        let list = try keel(["models", "list"])
        #expect(list.status == 0 && list.stdout.contains("churn") && list.stdout.contains("production"), "\(list.stdout)\(list.stderr)")

        let predictions = folder.appendingPathComponent("predictions.csv").path
        let predict = try keel(["predict", "churn@production", data, "--out", predictions])
        #expect(predict.status == 0, "\(predict.stderr)")
        let expected = try String(contentsOf: Self.fixtures.appendingPathComponent("\(name)-predictions.csv"), encoding: .utf8)
        #expect(try String(contentsOfFile: predictions, encoding: .utf8) == expected, "the same predictions as when the registry was written")

        // The run was made before search semantics were versioned (version 1): this Keel seeds and fits
        // differently, so it says so by name rather than replaying it and calling the result different.
        let reproduce = try keel(["runs", "reproduce", "1"])
        #expect(reproduce.status != 0 && reproduce.stderr.contains("made by search version 1") && reproduce.stderr.contains("searches with version 2"),
                "\(reproduce.stdout)\(reproduce.stderr)")
        #expect(!reproduce.stderr.contains("did not reproduce"))

        let train = try keel(["train", data, "--target", "churned", "--trials", "1", "--learner", "linear", "--name", "churn", "--quiet",
                              "--out", folder.appendingPathComponent("m.keel").path])
        #expect(train.status == 0 && train.stdout.contains("registered as churn@2"), "\(train.stdout)\(train.stderr)")
        let after = try keel(["audit", "verify"])
        #expect(after.status == 0 && after.stdout.contains("audit log intact"), "\(after.stdout)\(after.stderr)")
    }
}
