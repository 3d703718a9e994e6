import Foundation
import KeelArtifact
import KeelLearn
import KeelRegistry
import KeelTestSupport
import Testing

/// The README's promise that a seeded run with a fixed trial count is independent of the thread count:
/// `keel train` with KEEL_THREADS=1 and KEEL_THREADS=2 writes the same model, byte for byte, apart from the
/// creation time.
@Suite(.serialized) struct ThreadCountTests {
    @Test func aSeededTrainingRunIsIndependentOfTheThreadCount() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("keel-threads-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = folder.appendingPathComponent("churn.csv").path
        try CustomerChurnFixture.csv.write(toFile: data, atomically: true, encoding: .utf8)
        var payloads: [String: Data] = [:]
        var documents: [String: [String: Any]] = [:]
        for threads in ["1", "2"] {
            let out = folder.appendingPathComponent("threads-\(threads).keel").path
            let train = try KeelProcess.run(["train", data, "--target", "churned", "--trials", "6", "--seed", "1", "--out", out, "--quiet", "--no-registry"],
                                            environment: ["KEEL_THREADS": threads])
            try #require(train.status == 0, "KEEL_THREADS=\(threads): \(train.stderr)")
            var model = try Artifact.read(from: out).model
            // The one field that differs by the clock alone.
            model.provenance.createdAt = ""
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            let payload = try encoder.encode(model)
            payloads[threads] = payload
            documents[threads] = try #require(try JSONSerialization.jsonObject(with: payload) as? [String: Any])
        }
        let one = try #require(payloads["1"]), two = try #require(payloads["2"])
        let (a, b) = (try #require(documents["1"]), try #require(documents["2"]))
        let differing = Set(a.keys).union(b.keys).sorted().filter { key in
            guard let x = a[key], let y = b[key] else { return true }
            return (try? JSONSerialization.data(withJSONObject: ["v": x], options: .sortedKeys)) != (try? JSONSerialization.data(withJSONObject: ["v": y], options: .sortedKeys))
        }
        #expect(one == two, "the models trained on 1 and 2 threads differ in \(differing) (\(one.count) vs \(two.count) bytes)")
    }
}
