import Foundation
import KeelTestSupport
import Testing

/// Columns read as text (`--categorical`) are part of the schema: a schema file carries them to training,
/// the model's schema keeps them, and every file scored later is read the same way, so a code spelled
/// `007` stays the level `007` rather than becoming the number 7.
@Suite struct TextColumnsTests {
    /// A product code with leading zeros that decides the label, a number beside it; seeded by the row index.
    static func table(rows: Int) -> String {
        var lines = ["code,x,y"]
        for i in 0..<rows {
            let code = String(format: "%03d", (i * 7) % 10)
            let positive = ["001", "004", "007"].contains(code) != (i % 9 == 0)
            lines.append("\(code),\(Double((i * 37) % 100) / 10),\(positive ? "yes" : "no")")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    @Test func aSchemaFileCarriesTextColumnsIntoTheModelAndEveryFileItScores() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("keel-text-columns-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Self.table(rows: 200).write(to: dir.appendingPathComponent("train.csv"), atomically: true, encoding: .utf8)
        let inspect = try KeelProcess.run(["inspect", "train.csv", "--target", "y", "--categorical", "code", "--write-schema", "schema.yaml", "--quiet"], in: dir)
        #expect(inspect.status == 0, "\(inspect.stderr)")
        #expect(try String(contentsOf: dir.appendingPathComponent("schema.yaml"), encoding: .utf8).contains("textColumns"))
        // No --categorical here: the schema file says it.
        let train = try KeelProcess.run(["train", "train.csv", "--target", "y", "--schema", "schema.yaml", "--trials", "1", "--learner", "linear",
                                         "--out", "model.keel", "--no-registry", "--quiet"], in: dir)
        #expect(train.status == 0, "\(train.stderr)")
        let info = try KeelProcess.run(["model", "info", "model.keel", "--json"], in: dir)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(info.stdout.utf8)) as? [String: Any])
        let manifest = try #require(document["manifest"] as? [String: Any])
        #expect((manifest["schema"] as? [String: Any])?["textColumns"] as? [String] == ["code"])
        #expect(manifest["textColumns"] as? [String] == ["code"])
        // Scored later, `007` is the level training saw; `7` is a level it never saw, and says so.
        try "code,x\n007,1.5\n7,1.5\n".write(to: dir.appendingPathComponent("score.csv"), atomically: true, encoding: .utf8)
        let predict = try KeelProcess.run(["predict", "model.keel", "score.csv", "--out", "scored.csv", "--warnings-column"], in: dir)
        #expect(predict.status == 0, "\(predict.stderr)")
        let scored = try String(contentsOf: dir.appendingPathComponent("scored.csv"), encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(scored.count == 3)
        #expect(scored.count == 3 && !scored[1].contains("unseen_level") && scored[2].contains("unseen_level"), "\(scored)")
    }
}

/// Personal data found by inference is said by `keel inspect` (its table, `--json`, its warnings) and in
/// a training run's report, with the flag that keeps it out.
@Suite struct PersonalDataCommandTests {
    @Test func inspectAndTrainSayWhichColumnsHoldPersonalData() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("keel-pii-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var lines = ["email,age,plan,y"]
        for i in 0..<120 {
            lines.append("user\(i)@example.com,\(20 + i % 50),\(["basic", "plus", "pro"][i % 3]),\(i % 3 == 0 ? "yes" : "no")")
        }
        try (lines.joined(separator: "\n") + "\n").write(to: dir.appendingPathComponent("people.csv"), atomically: true, encoding: .utf8)
        let json = try KeelProcess.run(["inspect", "people.csv", "--target", "y", "--json"], in: dir)
        #expect(json.status == 0, "\(json.stderr)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let profile = try #require(document["profile"] as? [[String: Any]])
        let email = try #require(profile.first { $0["name"] as? String == "email" }?["pii"] as? [String: Any])
        #expect(email["kind"] as? String == "email" && email["class"] as? String == "direct" && ((email["confidence"] as? Double) ?? 0) > 0.9)
        #expect(profile.first { $0["name"] as? String == "plan" }?["pii"] == nil, "absent where none was found")
        #expect((document["warnings"] as? [String])?.contains { $0.contains("'email' holds e-mail addresses") && $0.contains("dropped by the privacy policy") && $0.contains("--allow-pii email") } == true)
        let table = try KeelProcess.run(["inspect", "people.csv", "--target", "y"], in: dir)
        #expect(table.stdout.contains("pii: email (direct, 1.00), privacy: drop") && table.stdout.contains("pii: age (quasi"), "\(table.stdout)")
        let train = try KeelProcess.run(["train", "people.csv", "--target", "y", "--trials", "1", "--learner", "linear", "--no-registry", "--json",
                                         "--out", "m.keel"], in: dir)
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stdout.contains("'email' holds e-mail addresses"), "the run's report says it too")
        // The model's schema does not carry the findings (a replay starts from the dataset's stored schema).
        let info = try KeelProcess.run(["model", "info", "m.keel", "--json"], in: dir)
        #expect(info.status == 0 && info.stdout.contains("\"email\"") && !info.stdout.contains("\"pii\""), "\(info.stdout.prefix(300))")
        let ignored = try KeelProcess.run(["inspect", "people.csv", "--target", "y", "--ignore", "email", "--allow-pii", "email", "--json"], in: dir)
        #expect(ignored.stdout.contains("it is not a feature (role ignored)"), "said of the schema as the flags left it")
    }
}
