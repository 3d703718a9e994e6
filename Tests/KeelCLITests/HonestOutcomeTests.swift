import Foundation
import KeelData
import KeelTestSupport
import Testing

/// Never silently wrong about the data or the outcome: a predictive unique number stays a feature, every
/// column left out is named with the flag that keeps it, a useless model is called useless (and can fail the
/// run), and files Keel does not read are named as such.
@Suite(.serialized) struct HonestOutcomeTests {
    static let folder: URL = {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("keel-honest-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }()

    /// 1,200 rows: `income`, a near-unique integer that decides the target; `record_no`, a counter; `customer_id`,
    /// random unique numbers named as an id; `region`, a plain categorical.
    static func table(predictive: Bool, seed: UInt64) -> String {
        var g = SeededGenerator(seed: seed)
        var lines = ["record_no,customer_id,income,region,bought"]
        for i in 0..<1_200 {
            let income = 20_000 + Int(g.nextUnit() * 80_000)
            let region = ["north", "south", "east", "west"][g.next(below: 4)]
            let p = predictive ? 1 / (1 + exp(-Double(income - 60_000) / 6_000)) : 0.3
            let bought = g.nextUnit() < p ? "yes" : "no"
            lines.append("\(1_000 + i),\(g.next(below: 1_000_000_000)),\(income),\(region),\(bought)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    @Test func aNearUniquePredictiveIntegerIsAFeatureAndIdentifiersAreNamed() throws {
        let frame = try CSVFixtures.read(Self.table(predictive: true, seed: 3))
        let schema = try SchemaInference.infer(frame, target: "bought").schema
        let income = try #require(frame["income"])
        #expect(ColumnStatistics(income).distinct > 1_100, "income is near-unique")
        #expect(schema["income"]?.role == .feature, "a unique number without an id's name or a counter's values is a feature")
        #expect(schema["record_no"]?.role == .id && schema["customer_id"]?.role == .id)
        #expect(SchemaInference.identifierEvidence(frame["record_no"]!, ColumnStatistics(frame["record_no"]!))?.contains("row order") == true)
        #expect(SchemaInference.identifierEvidence(frame["customer_id"]!, ColumnStatistics(frame["customer_id"]!))?.contains("name") == true)

        let data = Self.folder.appendingPathComponent("income.csv").path
        try Self.table(predictive: true, seed: 3).write(toFile: data, atomically: true, encoding: .utf8)
        let model = Self.folder.appendingPathComponent("income.keel").path
        let result = try KeelProcess.run(["train", data, "--target", "bought", "--trials", "2", "--learner", "gbdt", "--out", model, "--no-registry"])
        #expect(result.status == 0, "\(result.stderr)")
        // Each identifier is probed as a feature, found useless, and left out with the evidence and the probe.
        #expect(result.stdout.contains("left out of the model: 'record_no' (identifier: unique values that follow the row order (a counter); a probe found no signal in it (probe roc_auc"),
                "\(result.stdout)")
        #expect(result.stdout.contains("'customer_id' (identifier: unique values and a name that says identifier; a probe found no signal in it (probe roc_auc"))
        #expect(result.stdout.contains("; --feature customer_id keeps it)") && result.stdout.contains("; --feature record_no keeps it)"))
        #expect(!result.stdout.contains("'income' ("), "income is used")
        #expect(!result.stdout.contains("no better than the baseline"))
        let holdout = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("holdout roc_auc:") })
        let auc = try #require(Double(holdout.split(separator: " ")[2]))
        #expect(auc > 0.85, "\(holdout)")
        #expect(result.stdout.contains("baseline roc_auc on the same rows: 0.5000"))
    }

    @Test func aModelNoBetterThanTheBaselineIsCalledSoAndCanFailTheRun() throws {
        let data = Self.folder.appendingPathComponent("chance.csv").path
        try Self.table(predictive: false, seed: 5).write(toFile: data, atomically: true, encoding: .utf8)
        let model = Self.folder.appendingPathComponent("chance.keel").path
        let report = Self.folder.appendingPathComponent("chance-report").path
        let plain = try KeelProcess.run(["train", data, "--target", "bought", "--trials", "2", "--learner", "gbdt", "--out", model, "--no-registry",
                                         "--report", report])
        #expect(plain.status == 0, "\(plain.stderr)")
        #expect(plain.stdout.contains("warning: the model is no better than the baseline"), "\(plain.stdout)")
        #expect(plain.stdout.contains("— the model is no better"))
        let markdown = try String(contentsOfFile: report + "/report.md", encoding: .utf8)
        #expect(markdown.contains("the model is no better than the baseline") && markdown.contains("baseline on the holdout"))

        let strict = try KeelProcess.run(["train", data, "--target", "bought", "--trials", "2", "--learner", "gbdt", "--out", model, "--no-registry",
                                          "--require-better-than-baseline"])
        #expect(strict.status == 3, "\(strict.status) \(strict.stderr)")
        #expect(strict.stderr.contains("no better than the baseline") && FileManager.default.fileExists(atPath: model))
        // The config key does the same.
        let config = Self.folder.appendingPathComponent("strict.yaml").path
        try "require_better_than_baseline: true\n".write(toFile: config, atomically: true, encoding: .utf8)
        let configured = try KeelProcess.run(["train", data, "--target", "bought", "--trials", "2", "--learner", "gbdt", "--out", model, "--no-registry",
                                              "--config", config, "--quiet"])
        #expect(configured.status == 3)
    }

    @Test func theLeaderboardNamesTrialsAndItsHeaderLinesUp() throws {
        let data = Self.folder.appendingPathComponent("board.csv").path
        try Self.table(predictive: true, seed: 7).write(toFile: data, atomically: true, encoding: .utf8)
        let result = try KeelProcess.run(["train", data, "--target", "bought", "--trials", "3", "--out", Self.folder.appendingPathComponent("b.keel").path,
                                          "--no-registry"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let header = try #require(lines.firstIndex { $0.hasPrefix("rank") })
        #expect(lines[header].hasPrefix("rank  trial  learner"), "\(lines[header])")
        // Each column starts where its header does: the learner and the right-aligned trial id.
        let learnerColumn = lines[header].distance(from: lines[header].startIndex, to: lines[header].range(of: "learner")!.lowerBound)
        let trialEnd = lines[header].distance(from: lines[header].startIndex, to: lines[header].range(of: "trial")!.upperBound)
        let row = lines[header + 1]
        #expect(row.count > learnerColumn && [" gbdt", " line", " rand", " extr", " ebm "].contains(String(Array(row)[(learnerColumn - 1)..<(learnerColumn + 4)])), "\(lines[header])\n\(row)")
        #expect(Array(row)[trialEnd - 1].isNumber && Array(row)[trialEnd] == " ")
        // The chosen line names a trial the table shows.
        let chosen = try #require(lines.first { $0.hasPrefix("chosen:") })
        let ids = Set(lines[(header + 1)...].prefix { !$0.isEmpty && !$0.hasPrefix("(") }.compactMap { $0.split(separator: " ").dropFirst().first.map(String.init) })
        let named = chosen.components(separatedBy: "trial ").dropFirst().compactMap { $0.split(separator: " ").first.map(String.init) }
        #expect(!named.isEmpty && named.allSatisfy(ids.contains), "\(chosen) vs \(ids)")
    }

    @Test func fileTypesKeelDoesNotReadYetAreNamedAndAMalformedParquetFileIsSaid() throws {
        let parquet = Self.folder.appendingPathComponent("data.parquet").path
        try Data(Array("PAR1".utf8) + [0, 1, 2, 3] + Array("PAR1".utf8)).write(to: URL(fileURLWithPath: parquet))
        let result = try KeelProcess.run(["train", parquet, "--target", "y"])
        // Parquet is read now: a malformed file is a clear error naming it, never "no data rows".
        #expect(result.status != 0 && result.stderr.contains("data.parquet") && !result.stderr.contains("no data rows"), "\(result.stderr)")
        let workbook = Self.folder.appendingPathComponent("data.xlsx").path
        try Data([0x50, 0x4B, 0x03, 0x04, 0, 0, 0, 0]).write(to: URL(fileURLWithPath: workbook))
        let excel = try KeelProcess.run(["inspect", workbook])
        #expect(excel.status != 0 && excel.stderr.contains("Excel workbooks are not supported yet"), "\(excel.stderr)")
    }

    /// A Windows-1252 `;` file with decimal commas, thousands separators and words in a numeric column, as a
    /// German spreadsheet exports it: trained on as numbers (a signal in `betrag` is found), said on the
    /// terminal; prediction reads a one-row file the same way, the training words as missing, other words as
    /// errors; the server takes the same words as missing.
    @Test func aEuropeanSpreadsheetTrainsAndPredictsAsItsNumbersSay() throws {
        var g = SeededGenerator(seed: 21)
        var text = "konto;betrag;zinssatz;stadt;alter;gekauft\r\n"
        for i in 0..<800 {
            let amount = 100 + Double(g.next(below: 490_000)) / 100
            let whole = Int(amount), cents = Int(((amount - Double(whole)) * 100).rounded()) % 100
            let grouped = whole >= 1000 ? "\(whole / 1000).\(String(format: "%03d", whole % 1000))" : "\(whole)"
            let age = i % 40 == 3 ? "unbekannt" : "\(18 + g.next(below: 60))"
            let bought = g.nextUnit() < 1 / (1 + exp(-(amount - 2500) / 500)) ? "ja" : "nein"
            text += "\(i);\(grouped),\(String(format: "%02d", cents));\(g.next(below: 9)),\(g.next(below: 10));\(["München", "Köln", "Düsseldorf"][i % 3]);\(age);\(bought)\r\n"
        }
        let data = Self.folder.appendingPathComponent("eu.csv").path
        try text.data(using: .windowsCP1252)!.write(to: URL(fileURLWithPath: data))
        let model = Self.folder.appendingPathComponent("eu.keel").path
        let trained = try KeelProcess.run(["train", data, "--target", "gekauft", "--trials", "2", "--learner", "gbdt", "--out", model, "--no-registry"])
        #expect(trained.status == 0, "\(trained.stderr)")
        #expect(trained.stderr.contains("note: read as windows-1252") && trained.stderr.contains("note: numbers read with a decimal comma"), "\(trained.stderr)")
        #expect(trained.stderr.contains("'alter' is numeric; 20 values that are words were read as missing: 'unbekannt' (20 rows)"))
        let holdout = try #require(trained.stdout.split(separator: "\n").first { $0.hasPrefix("holdout roc_auc:") })
        #expect(try #require(Double(holdout.split(separator: " ")[2])) > 0.85, "\(holdout)")

        let one = Self.folder.appendingPathComponent("one.csv").path
        try "konto;betrag;zinssatz;stadt;alter\r\n1;4.321,5;3,1;Köln;unbekannt\r\n".data(using: .windowsCP1252)!.write(to: URL(fileURLWithPath: one))
        let out = Self.folder.appendingPathComponent("one-predictions.csv").path
        let predicted = try KeelProcess.run(["predict", model, one, "--out", out])
        #expect(predicted.status == 0, "\(predicted.stderr)")
        let line = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n")[1]
        #expect(line.hasPrefix("1,ja,"), "the counter konto is the id column; 4,321.50 is read as a large amount: \(line)")
        let other = Self.folder.appendingPathComponent("other.csv").path
        try "konto;betrag;zinssatz;stadt;alter\r\n1;99,5;3,1;Köln;zwanzig\r\n".write(toFile: other, atomically: true, encoding: .utf8)
        let refused = try KeelProcess.run(["predict", model, other, "--out", out])
        #expect(refused.status != 0 && refused.stderr.contains("other.csv:2, column 5 ('alter'): 'zwanzig' is not a number"), "\(refused.stderr)")

        // Bad settings are usage errors naming the flag.
        let badDecimal = try KeelProcess.run(["inspect", data, "--decimal", ";"])
        #expect(badDecimal.status == 2 && badDecimal.stderr.contains("--decimal takes `.` or `,`, not ';'"), "\(badDecimal.stderr)")
        let badEncoding = try KeelProcess.run(["predict", model, one, "--encoding", "ebcdic"])
        #expect(badEncoding.status == 2 && badEncoding.stderr.contains("--encoding takes utf-8, latin-1 or windows-1252, not 'ebcdic'"))

        let server = try ServerProcess([model, "--keys-file", Self.folder.appendingPathComponent("none.json").path])
        defer { server.stop() }
        let served = try server.client.post("/v1/predict", #"{"konto": 5, "betrag": 4321.5, "zinssatz": 3.1, "stadt": "Köln", "alter": "unbekannt"}"#)
        #expect(served.status == 200, "\(served.body)")
        let wrong = try server.client.post("/v1/predict", #"{"konto": 5, "betrag": 4321.5, "zinssatz": 3.1, "stadt": "Köln", "alter": "zwanzig"}"#)
        #expect(wrong.status == 422 && wrong.errorField == "alter", "\(wrong.body)")
    }

    /// A prediction that rests on an input training never saw says so: per prediction from the server, in
    /// `/metrics` by code, as a refusal with --strict-levels, and as a summary (and a column) from `keel predict`.
    @Test func servingAndPredictionSayWhenTheyAreGuessing() throws {
        let data = Self.folder.appendingPathComponent("guessing.csv").path
        try Self.table(predictive: true, seed: 11).write(toFile: data, atomically: true, encoding: .utf8)
        let model = Self.folder.appendingPathComponent("guessing.keel").path
        let trained = try KeelProcess.run(["train", data, "--target", "bought", "--trials", "1", "--learner", "gbdt", "--out", model, "--no-registry", "--quiet"])
        #expect(trained.status == 0, "\(trained.stderr)")

        let keys = Self.folder.appendingPathComponent("none.json").path
        let server = try ServerProcess([model, "--keys-file", keys])
        let body = #"{"rows": [{"income": 55000, "region": "north"}, {"income": 55000, "region": "atlantis"}, {"income": 9000000, "region": "south"}]}"#
        let response = try server.client.post("/v1/predict", body)
        #expect(response.status == 200, "\(response.body)")
        let predictions = try #require(response.json?["predictions"] as? [[String: Any]])
        let warnings = predictions.map { ($0["warnings"] as? [[String: Any]]) ?? [] }
        #expect(warnings[0].isEmpty)
        #expect(warnings[1].count == 1 && warnings[1][0]["code"] as? String == "unseen_level" && warnings[1][0]["field"] as? String == "region"
                && warnings[1][0]["value"] as? String == "atlantis", "\(warnings[1])")
        #expect(warnings[2].count == 1 && warnings[2][0]["code"] as? String == "out_of_range" && warnings[2][0]["field"] as? String == "income")
        let metrics = try server.client.get("/metrics").body
        #expect(metrics.contains(#"keel_input_warnings_total{code="unseen_level"} 1"#) && metrics.contains(#"keel_input_warnings_total{code="out_of_range"} 1"#), "\(metrics)")
        server.stop()

        let strict = try ServerProcess([model, "--keys-file", keys, "--strict-levels"])
        defer { strict.stop() }
        let refused = try strict.client.post("/v1/predict", body)
        #expect(refused.status == 422 && refused.errorField == "region" && refused.body.contains("unseen_level"), "\(refused.body)")
        #expect(try strict.client.post("/v1/predict", #"{"income": 55000, "region": "north"}"#).status == 200, "the server still answers")

        let scoring = Self.folder.appendingPathComponent("scoring.csv").path
        try "income,region\n55000,north\n55000,atlantis\n56000,atlantis\n9000000,south\n".write(toFile: scoring, atomically: true, encoding: .utf8)
        let out = Self.folder.appendingPathComponent("scored.csv").path
        let predicted = try KeelProcess.run(["predict", model, scoring, "--out", out, "--warnings-column"])
        #expect(predicted.status == 0, "\(predicted.stderr)")
        #expect(predicted.stderr.contains("warning: 2 rows had a level of 'region' training never saw (e.g. 'atlantis'), scored as missing [unseen_level]"), "\(predicted.stderr)")
        #expect(predicted.stderr.contains("warning: 1 row had a value of 'income' outside its training range (e.g. 9000000) [out_of_range]"))
        let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n")
        #expect(lines[0].hasSuffix(",warnings") && lines[2].hasSuffix(",unseen_level region=atlantis") && lines[1].hasSuffix(","))
    }

    /// `--learner random_forest` with a budget no forest can finish in: the run says which trials stopped
    /// and why, exits 3 (the ridge fallback is not a forest), and --allow-fallback accepts it.
    @Test func aPinnedLearnerThatCannotFinishIsNotReplacedSilently() throws {
        var g = SeededGenerator(seed: 13)
        var text = (0..<16).map { "x\($0)" }.joined(separator: ",") + ",y\n"
        for _ in 0..<40_000 {
            let row = (0..<16).map { _ in g.nextUnit() * 10 }
            text += row.map { String(format: "%.3f", $0) }.joined(separator: ",") + ",\(row[0] + row[1] > 10 ? "a" : "b")\n"
        }
        let data = Self.folder.appendingPathComponent("forest.csv").path
        try text.write(toFile: data, atomically: true, encoding: .utf8)
        let model = Self.folder.appendingPathComponent("forest.keel").path
        let pinned = try KeelProcess.run(["train", data, "--target", "y", "--learner", "random_forest", "--time", "1s", "--out", model, "--no-registry"])
        #expect(pinned.status == 3, "\(pinned.status): \(pinned.stderr)")
        #expect(pinned.stderr.contains("no trial of random_forest (--learner) completed: trial 1 random_forest") && pinned.stderr.contains("--allow-fallback"),
                "\(pinned.stderr)")
        #expect(FileManager.default.fileExists(atPath: model), "the model is written for inspection")
        let allowed = try KeelProcess.run(["train", data, "--target", "y", "--learner", "random_forest", "--time", "1s", "--out", model, "--no-registry",
                                           "--allow-fallback"])
        #expect(allowed.status == 0, "\(allowed.stderr)")
        #expect(allowed.stdout.contains("shipping the fastest baseline (a ridge model)"))
    }

    /// A column named like an identifier that carries the signal is probed, kept as a feature, and said so.
    @Test func anIdentifierThatPredictsIsKeptAsAFeature() throws {
        var g = SeededGenerator(seed: 17)
        var text = "customer_id,region,bought\n"
        for _ in 0..<1_500 {
            let id = 1_000_000 + g.next(below: 9_000_000)
            let p = 1 / (1 + exp(-(Double(id) - 5_500_000) / 800_000))
            text += "\(id),\(["n", "s", "e", "w"][g.next(below: 4)]),\(g.nextUnit() < p ? "yes" : "no")\n"
        }
        let data = Self.folder.appendingPathComponent("predictive-id.csv").path
        try text.write(toFile: data, atomically: true, encoding: .utf8)
        let result = try KeelProcess.run(["train", data, "--target", "bought", "--trials", "2", "--out", Self.folder.appendingPathComponent("pid.keel").path, "--no-registry"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("warning: kept as features although they look like identifiers (a probe scored better with them; --id COLUMN leaves one out): 'customer_id'"),
                "\(result.stdout)")
        #expect(!result.stdout.contains("left out of the model: 'customer_id'"))
        let holdout = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("holdout roc_auc:") })
        #expect(try #require(Double(holdout.split(separator: " ")[2])) > 0.85, "\(holdout)")
        // Named by the user as an identifier, it is not second-guessed.
        let named = try KeelProcess.run(["train", data, "--target", "bought", "--trials", "2", "--id", "customer_id",
                                         "--out", Self.folder.appendingPathComponent("pid2.keel").path, "--no-registry"])
        #expect(named.stdout.contains("'customer_id' (identifier (set by --id or the schema file)"), "\(named.stdout)")
    }
}
