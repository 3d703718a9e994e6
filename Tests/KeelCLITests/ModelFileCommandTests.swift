import Foundation
import KeelData
import KeelTestSupport
import Testing

/// `keel model info`, `keel keys`, signed and encrypted models, and the input rules of `keel predict`.
@Suite(.serialized) struct ModelFileCommandTests {
    static let setup = ServedModels.setup

    private func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("keel-model-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func modelInfoPrintsTheManifestAsTextAndJSON() throws {
        let text = try KeelProcess.run(["model", "info", Self.setup.boosted])
        #expect(text.status == 0, "\(text.stderr)")
        for needle in ["format          3", "keel version", "target          churned", "seed            1", "checksum", "signature       none"] {
            #expect(text.stdout.contains(needle), "\(needle) in \(text.stdout)")
        }
        let json = try KeelProcess.run(["model", "info", Self.setup.boosted, "--json"])
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let manifest = try #require(document["manifest"] as? [String: Any])
        #expect(manifest["formatVersion"] as? Int == 3)
        // The manifest's fields outlive the payload's format: scripts read them.
        for key in ["holdoutScore", "crossValidatedScore", "modelKind", "metric", "validation", "seed", "trialCount", "refittedOnAllRows",
                    "keelVersion", "createdAt", "schema", "textColumns", "payload"] {
            #expect(manifest[key] != nil, "\(key) in the manifest")
        }
        #expect((manifest["dataFingerprint"] as? String)?.count == 64)
        let missing = try KeelProcess.run(["model", "info", "/nonexistent.keel"])
        #expect(missing.status == 1 && missing.stderr.contains("no such file"))
    }

    @Test func signedAndEncryptedModelsRoundTripThroughTheCLI() throws {
        let dir = try folder()
        let generated = try KeelProcess.run(["keys", "generate-signing", "--out", "team"], in: dir)
        #expect(generated.status == 0, "\(generated.stderr)")
        let other = try KeelProcess.run(["keys", "generate-signing", "--out", "other"], in: dir)
        #expect(other.status == 0)
        #expect(try KeelProcess.run(["keys", "generate-signing", "--out", "team"], in: dir).status != 0, "never overwrites a key")
        #expect(try KeelProcess.run(["keys", "generate-encryption", "--out", "secret.key"], in: dir).status == 0)
        let train = try KeelProcess.run(["train", Self.setup.data, "--target", "churned", "--trials", "1", "--learner", "linear", "--out", "model.keel",
                                         "--sign-key-file", "team.key", "--encrypt-key-file", "secret.key", "--quiet"], in: dir)
        #expect(train.status == 0, "\(train.stderr)")
        let info = try KeelProcess.run(["model", "info", "model.keel", "--verify-key-file", "team.pub"], in: dir)
        #expect(info.status == 0 && info.stdout.contains("(verified)") && info.stdout.contains("encrypted (AES-256-GCM)"), "\(info.stdout)\(info.stderr)")
        let ok = try KeelProcess.run(["predict", "model.keel", Self.setup.data, "--out", "p.csv", "--encrypt-key-file", "secret.key", "--verify-key-file", "team.pub"], in: dir)
        #expect(ok.status == 0, "\(ok.stderr)")
        let noKey = try KeelProcess.run(["predict", "model.keel", Self.setup.data], in: dir)
        #expect(noKey.status == 1 && noKey.stderr.contains("is encrypted"), "\(noKey.stderr)")
        let wrongSigner = try KeelProcess.run(["predict", "model.keel", Self.setup.data, "--encrypt-key-file", "secret.key", "--verify-key-file", "other.pub"], in: dir)
        #expect(wrongSigner.status == 1 && wrongSigner.stderr.contains("refusing to load it"), "\(wrongSigner.stderr)")
        let unsigned = try KeelProcess.run(["predict", Self.setup.boosted, Self.setup.data, "--verify-key-file", "team.pub"], in: dir)
        #expect(unsigned.status == 1 && unsigned.stderr.contains("is not signed"), "\(unsigned.stderr)")
        do {
            _ = try ServerProcess([Self.setup.boosted, "--verify-key-file", dir.appendingPathComponent("team.pub").path])
            Issue.record("the server started with an unsigned model although a verify key is configured")
        } catch {
            #expect("\(error)".contains("not signed"), "the server refuses an unsigned model, saying why: \(error)")
        }
    }

    @Test func predictNotesIgnoredColumnsRejectsOrSkipsBadRowsAndStreamsInBatches() throws {
        let dir = try folder()
        var lines = try String(contentsOfFile: Self.setup.data, encoding: .utf8).split(separator: "\n").map(String.init)
        let header = lines[0].split(separator: ",").map(String.init)
        let fee = try #require(header.firstIndex(of: "monthly_fee"))
        var row = lines[5].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        row[fee] = "lots"
        lines[5] = row.joined(separator: ",")
        let bad = dir.appendingPathComponent("bad.csv").path
        try (lines.joined(separator: "\n") + "\n").write(toFile: bad, atomically: true, encoding: .utf8)

        let fail = try KeelProcess.run(["predict", Self.setup.boosted, bad, "--out", "p.csv"], in: dir)
        #expect(fail.status == 1)
        #expect(fail.stderr.contains("bad.csv:6, column \(fee + 1) ('monthly_fee'): 'lots' is not a number"), "\(fail.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("p.csv").path), "no half-written output")

        let skip = try KeelProcess.run(["predict", Self.setup.boosted, bad, "--out", "p.csv", "--on-error", "skip"], in: dir)
        #expect(skip.status == 0, "\(skip.stderr)")
        #expect(skip.stderr.contains("note: ignoring 1 column(s) the model does not use: churned"))
        #expect(skip.stderr.contains("set aside 1 row(s)"))
        let rejects = try String(contentsOfFile: dir.appendingPathComponent("p.csv.rejects.csv").path, encoding: .utf8)
        #expect(rejects == "line,column,value,error\n6,monthly_fee,lots,'monthly_fee' must be a number\n")
        let scored = try CSVReader.read(path: dir.appendingPathComponent("p.csv").path)
        #expect(scored.rowCount == 599)
        let ids = (0..<scored.rowCount).compactMap { scored["customer_id"]?.displayValue(at: $0) }
        #expect(!ids.contains(row[0]) && ids.count == 599, "the bad row is the one left out")

        // Small batches give the same output as one batch.
        let whole = try KeelProcess.run(["predict", Self.setup.boosted, Self.setup.data, "--out", "whole.csv"], in: dir)
        let batched = try KeelProcess.run(["predict", Self.setup.boosted, Self.setup.data, "--out", "batched.csv", "--batch-rows", "7"], in: dir)
        #expect(whole.status == 0 && batched.status == 0)
        #expect(try String(contentsOfFile: dir.appendingPathComponent("whole.csv").path, encoding: .utf8)
            == String(contentsOfFile: dir.appendingPathComponent("batched.csv").path, encoding: .utf8))
    }
}
