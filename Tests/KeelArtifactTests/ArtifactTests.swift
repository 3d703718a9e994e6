import Foundation
import KeelArtifact
import KeelData
import KeelLearn
import KeelSynthetic
import KeelTestSupport
import Testing

/// The model file: every format version stays readable, tampering and truncation are caught, encryption
/// and signatures do what they promise.
@Suite struct ArtifactTests {
    static let fixtures = Datasets.packageRoot.appendingPathComponent("Tests/Fixtures/artifacts")
    /// The data both fixture models were trained on (`keel example --rows 400 --seed 3`).
    static let data = try! CSVReader.read(bytes: Array(CustomerChurnData(rows: 400, seed: 3).csv().utf8))

    static func temporary(_ name: String = "model.keel") -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("keel-artifact-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder.appendingPathComponent(name).path
    }

    static func expectedProbabilities() throws -> [String] {
        let text = try String(contentsOf: fixtures.appendingPathComponent("format-v1-predictions.csv"), encoding: .utf8)
        return text.split(separator: "\n").dropFirst().map { $0.split(separator: ",").dropFirst(2).joined(separator: ",") }
    }

    static func probabilities(_ model: TrainedModel) throws -> [String] {
        try model.predictor.predict(data).map { $0.probabilities.map { String(format: "%.6g", $0) }.joined(separator: ",") }
    }

    @Test(arguments: [1, 2])
    func everyFormatVersionIsStillReadAndPredictsAsWhenItWasWritten(version: Int) throws {
        let artifact = try Artifact.read(from: Self.fixtures.appendingPathComponent("format-v\(version).keel").path)
        #expect(artifact.manifest.formatVersion == version)
        #expect(artifact.manifest.schema.target == "churned")
        #expect(artifact.manifest.seed == 1)
        #expect(artifact.manifest.dataFingerprint.count == 64)
        let got = try Self.probabilities(artifact.model), expected = try Self.expectedProbabilities()
        #expect(got == expected, "first difference: \(zip(got, expected).enumerated().first { $0.element.0 != $0.element.1 }.map { "row \($0.offset): \($0.element)" } ?? "count \(got.count) vs \(expected.count)")")
    }

    /// The last format-2 model (`Tests/Fixtures/artifacts/README.md`): text columns, a reference profile and
    /// an ensemble, written flat. Read into the three parts, the text columns move into the schema, where the
    /// input contract and every reader of files to score find them, and the predictions are the ones that
    /// Keel wrote with `keel predict`.
    @Test func theLastFlatPayloadIsReadIntoItsPartsAndPredictsAsWritten() throws {
        let artifact = try Artifact.read(from: Self.fixtures.appendingPathComponent("format-v2-text-columns.keel").path)
        let model = artifact.model
        #expect(artifact.manifest.formatVersion == 2)
        #expect(model.predictor.schema.textColumns == ["satisfaction"] && artifact.manifest.textColumns == ["satisfaction"])
        #expect(model.provenance.trialSchedule.count == artifact.manifest.trialCount && artifact.manifest.trialCount == 4)
        #expect(model.provenance.metric == .rocAUC && model.provenance.seed == 1 && !model.provenance.refittedOnAllRows)
        #expect(model.predictor.model.kindName == "ensemble")
        #expect(model.profile?.predictions != nil && model.profile?.columns.isEmpty == false)
        let expected = try String(contentsOf: Self.fixtures.appendingPathComponent("format-v2-text-columns-predictions.csv"), encoding: .utf8)
            .split(separator: "\n").dropFirst().map { $0.split(separator: ",").dropFirst().joined(separator: ",") }
        var options = CSVOptions()
        options.stringColumns = Set(model.predictor.schema.textColumns ?? [])
        let data = try CSVReader.read(bytes: Array(CustomerChurnData(rows: 400, seed: 3).csv().utf8), options: options)
        let got = try model.predictor.predict(data).map { p in
            ([p.label] + p.probabilities.map { String(format: "%.6g", $0) }).joined(separator: ",")
        }
        #expect(got == expected, "first difference: \(zip(got, expected).enumerated().first { $0.element.0 != $0.element.1 }.map { "row \($0.offset): \($0.element)" } ?? "count \(got.count) vs \(expected.count)")")
    }

    /// Format 3 keeps the parts apart in the payload; what the manifest shows (`keel model info --json`) is
    /// unchanged, and a model read from any format writes the same format-3 payload again.
    @Test func format3WritesThePartsApartAndKeepsTheManifestFields() throws {
        let flat = try Artifact.read(from: Self.fixtures.appendingPathComponent("format-v2-text-columns.keel").path)
        let path = Self.temporary()
        try Artifact.write(flat.model, to: path, options: .init(name: flat.manifest.name, version: flat.manifest.version))
        let back = try Artifact.read(from: path)
        #expect(back.manifest.formatVersion == 3)
        var before = flat.manifest, after = back.manifest
        (before.formatVersion, before.payload, after.formatVersion, after.payload) = (0, after.payload, 0, after.payload)
        // The schema names the columns read as text, read from either format (the manifest's own list stays).
        #expect(before.schema.textColumns == ["satisfaction"] && after.schema.textColumns == ["satisfaction"])
        #expect(before == after)
        let payload = try Artifact.payloadEncoder().encode(back.model)
        let keys = try (JSONSerialization.jsonObject(with: payload) as? [String: Any]).map { Set($0.keys) }
        #expect(keys == ["predictor", "provenance", "profile"])
        #expect(payload == (try Artifact.payloadEncoder().encode(flat.model)))
        #expect(try back.model.predictor.outputs(Self.data) == flat.model.predictor.outputs(Self.data))
    }

    @Test func writesTheCurrentFormatAndReadsItBack() throws {
        let model = try Artifact.read(from: Self.fixtures.appendingPathComponent("format-v1.keel").path).model
        let path = Self.temporary()
        let checksum = try Artifact.write(model, to: path, options: .init(name: "churn"))
        let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(Array(bytes.prefix(8)) == [0x89, 0x4B, 0x45, 0x45, 0x4C, 0x0D, 0x0A, 0x1A])
        let back = try Artifact.read(from: path)
        #expect(back.info.checksum == checksum)
        #expect(back.manifest.formatVersion == Artifact.formatVersion)
        #expect(back.manifest.name == "churn")
        #expect(back.manifest.keelVersion == model.provenance.keelVersion)
        #expect(try Self.probabilities(back.model) == Self.expectedProbabilities())
        // Writing is atomic: no temporary file is left beside the model.
        let siblings = try FileManager.default.contentsOfDirectory(atPath: (path as NSString).deletingLastPathComponent)
        #expect(siblings == ["model.keel"])
    }

    @Test func corruptTruncatedNewerAndForeignFilesAreClearErrors() throws {
        let original = try Array(Data(contentsOf: Self.fixtures.appendingPathComponent("format-v2.keel")))
        let path = Self.temporary()
        func message(_ bytes: [UInt8]) throws -> String? {
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            return CSVFixtures.errorMessage { _ = try Artifact.read(from: path) }
        }
        var flipped = original
        flipped[original.count / 2] ^= 0x01
        #expect(try message(flipped)?.contains("is corrupt or truncated: its checksum does not match") == true)
        #expect(try message(Array(original.prefix(original.count - 7)))?.contains("is corrupt or truncated") == true)
        #expect(try message(Array(original.prefix(10)))?.contains("not a Keel model file") == true)
        var newer = original
        newer[8] = 9
        #expect(try message(newer)?.contains("artefact format 9 by a newer Keel") == true)
        #expect(try message(Array("KEELMODEL 1 00\n{}".utf8))?.contains("corrupt or truncated") == true)
        #expect(try message(Array("name,age\n".utf8))?.contains("not a Keel model file") == true)
        #expect(try message([])?.contains("not a Keel model file") == true)
        #expect(CSVFixtures.errorMessage { _ = try Artifact.read(from: "/nonexistent/model.keel") }?.contains("no such file") == true)
    }

    @Test func encryptedPayloadNeedsTheKeyButTheManifestDoesNot() throws {
        let model = try Artifact.read(from: Self.fixtures.appendingPathComponent("format-v2.keel").path).model
        let keyFile = Self.temporary("artifact.key")
        try EncryptionKey.generateBase64().write(toFile: keyFile, atomically: true, encoding: .utf8)
        let key = try EncryptionKey(file: keyFile)
        let path = Self.temporary()
        try Artifact.write(model, to: path, options: .init(encryptionKey: key))
        // The plaintext model never appears in the file.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(bytes.range(of: Data("\"trees\"".utf8)) == nil)
        let info = try Artifact.inspect(path)
        #expect(info.encrypted && info.manifest.payload.encryption == "AES-256-GCM")
        #expect(info.manifest.schema.target == "churned")
        #expect(CSVFixtures.errorMessage { _ = try Artifact.read(from: path) }?.contains("is encrypted") == true)
        let other = try EncryptionKey(base64: EncryptionKey.generateBase64(), source: "test")
        #expect(CSVFixtures.errorMessage { _ = try Artifact.read(from: path, options: .init(decryptionKey: other)) }?.contains("cannot be decrypted") == true)
        let back = try Artifact.read(from: path, options: .init(decryptionKey: key))
        #expect(try Self.probabilities(back.model) == Self.expectedProbabilities())
        // The environment variable form: base64 of 32 bytes, anything else is a clear error.
        let fromEnvironment = try EncryptionKey.resolve(file: nil, environment: ["KEEL_ARTIFACT_KEY": String(contentsOfFile: keyFile, encoding: .utf8)])
        #expect(fromEnvironment != nil)
        #expect(CSVFixtures.errorMessage { _ = try EncryptionKey.resolve(file: nil, environment: ["KEEL_ARTIFACT_KEY": "c2hvcnQ="]) }?.contains("exactly 32 bytes") == true)
    }

    @Test func aConfiguredVerifyKeyRefusesUnsignedAndWronglySignedFiles() throws {
        let model = try Artifact.read(from: Self.fixtures.appendingPathComponent("format-v2.keel").path).model
        let signer = SigningKey.generate()
        let stranger = SigningKey.generate()
        let signed = Self.temporary("signed.keel")
        let unsigned = Self.temporary("unsigned.keel")
        let forged = Self.temporary("forged.keel")
        try Artifact.write(model, to: signed, options: .init(signingKey: signer))
        try Artifact.write(model, to: unsigned)
        try Artifact.write(model, to: forged, options: .init(signingKey: stranger))
        let trust = Artifact.ReadOptions(verifyKey: signer.verifyKey)
        #expect(try Artifact.read(from: signed, options: trust).info.signer == signer.verifyKey.base64)
        #expect(CSVFixtures.errorMessage { _ = try Artifact.read(from: unsigned, options: trust) }?.contains("is not signed") == true)
        #expect(CSVFixtures.errorMessage { _ = try Artifact.read(from: forged, options: trust) }?.contains("does not accept") == true)
        let formatOne = Self.fixtures.appendingPathComponent("format-v1.keel").path
        #expect(CSVFixtures.errorMessage { _ = try Artifact.read(from: formatOne, options: trust) }?.contains("is not signed") == true)
        // Changing a signed file's model breaks its checksum; re-computing the checksum breaks the signature.
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: signed)))
        bytes[30] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: signed))
        #expect(CSVFixtures.errorMessage { _ = try Artifact.read(from: signed, options: trust) }?.contains("checksum does not match") == true)
    }
}
