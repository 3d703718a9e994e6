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
        #expect(result.stdout.contains("left out of the model: 'record_no' (identifier: unique values that follow the row order (a counter); --feature record_no keeps it)"),
                "\(result.stdout)")
        #expect(result.stdout.contains("'customer_id' (identifier: unique values and a name that says identifier; --feature customer_id keeps it)"))
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

    @Test func fileTypesKeelDoesNotReadYetAreNamed() throws {
        let parquet = Self.folder.appendingPathComponent("data.parquet").path
        try Data(Array("PAR1".utf8) + [0, 1, 2, 3] + Array("PAR1".utf8)).write(to: URL(fileURLWithPath: parquet))
        let result = try KeelProcess.run(["train", parquet, "--target", "y"])
        #expect(result.status != 0 && result.stderr.contains("Parquet input is not supported yet") && result.stderr.contains("data.parquet"), "\(result.stderr)")
        let workbook = Self.folder.appendingPathComponent("data.xlsx").path
        try Data([0x50, 0x4B, 0x03, 0x04, 0, 0, 0, 0]).write(to: URL(fileURLWithPath: workbook))
        let excel = try KeelProcess.run(["inspect", workbook])
        #expect(excel.status != 0 && excel.stderr.contains("Excel workbooks are not supported yet"), "\(excel.stderr)")
    }
}
