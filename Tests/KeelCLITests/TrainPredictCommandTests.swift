import Foundation
import KeelArtifact
import KeelData
import KeelLearn
import KeelRegistry
import KeelTestSupport
import Testing

@Suite(.serialized) struct TrainPredictCommandTests {
    private func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("keel-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func trainPrintsALeaderboardAndPredictWritesTheDocumentedColumns() throws {
        let dir = try folder()
        let model = dir.appendingPathComponent("model.keel").path
        let predictions = dir.appendingPathComponent("predictions.csv").path
        let data = Datasets.packageRoot.appendingPathComponent("examples/customer_churn.csv").path
        let train = try KeelProcess.run(["train", data, "--target", "churned", "--trials", "3", "--out", model])
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stdout.contains("leaderboard (roc_auc"))
        #expect(train.stdout.contains("holdout roc_auc:"))
        #expect(train.stderr.contains("trial 1"), "progress goes to standard error")
        let predict = try KeelProcess.run(["predict", model, data, "--out", predictions])
        #expect(predict.status == 0, "\(predict.stderr)")
        let output = try CSVReader.read(path: predictions)
        #expect(output.columnNames == ["customer_id", "prediction", "proba_no", "proba_yes"])
        #expect(output.rowCount == 4000)
        #expect(output["customer_id"]?.displayValue(at: 0) == "C000001", "input row order is kept")
        guard case .numeric(let no) = output["proba_no"]!.values, case .numeric(let yes) = output["proba_yes"]!.values else {
            Issue.record("probabilities are numbers"); return
        }
        #expect(zip(no, yes).allSatisfy { abs($0 + $1 - 1) < 1e-5 })
        #expect(Set((0..<4000).compactMap { output["prediction"]!.displayValue(at: $0) }).isSubset(of: ["yes", "no"]))

        let json = try KeelProcess.run(["train", data, "--target", "churned", "--trials", "1", "--out", model, "--json"])
        let report = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect((report?["trials"] as? [Any])?.count == 1)
        #expect(report?["holdoutScore"] is Double)
        #expect(json.stderr.contains("trial"), "--json keeps progress on standard error: \(json.stderr.prefix(300))")
    }

    @Test func integerCodesSpelledAsDecimalsPredictLikeTheyTrained() throws {
        // pandas writes integer columns with missing values as 3.0; training types them as the category "3".
        var g = SeededGenerator(seed: 5)
        let rows = (0..<400).map { i -> String in
            let code = g.next(below: 4)
            return "\(i % 7 == 0 ? "" : "\(code).0"),\(g.nextUnit()),\(code >= 2 ? "yes" : "no")"
        }
        let path = try CSVFixtures.temporaryFile("kind,noise,label\n" + rows.joined(separator: "\n") + "\n")
        let dir = try folder()
        let model = dir.appendingPathComponent("m.keel").path
        #expect(try KeelProcess.run(["train", path, "--target", "label", "--trials", "2", "--out", model, "--quiet"]).status == 0)
        let out = dir.appendingPathComponent("p.csv").path
        #expect(try KeelProcess.run(["predict", model, path, "--out", out]).status == 0)
        let predictions = try CSVReader.read(path: out)
        let truth = try CSVReader.read(path: path)
        let hits = (0..<400).filter { predictions["prediction"]!.displayValue(at: $0) == truth["label"]!.displayValue(at: $0) }.count
        #expect(hits > 330, "the coded column must be recognised at prediction: \(hits) of 400 right")
    }

    @Test func reportFolderHasMarkdownAndJSON() throws {
        let dir = try folder()
        let data = Datasets.packageRoot.appendingPathComponent("examples/customer_churn.csv").path
        let result = try KeelProcess.run(["train", data, "--target", "churned", "--trials", "2", "--out", dir.appendingPathComponent("m.keel").path,
                                          "--report", dir.appendingPathComponent("report").path, "--protected", "region", "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        let markdown = try String(contentsOf: dir.appendingPathComponent("report/report.md"), encoding: .utf8)
        for section in ["## Validation", "## Leaderboard", "## Chosen model", "## Holdout result", "## Feature importance", "## Settings"] {
            #expect(markdown.contains(section), "report lacks \(section)")
        }
        #expect(markdown.contains("`--protected region`"), "overrides appear in the report")
        #expect(!markdown.contains("| region |"), "a protected column is not a feature, so it has no importance")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("report/report.json"))) as? [String: Any]
        #expect((json?["search"] as? [String: Any])?["holdoutScore"] is Double)
        #expect((json?["data"] as? [String: Any])?["rows"] as? Int == 4000)
    }

    @Test func theColumnScreenIsReportedAndCanBeTurnedOff() throws {
        let dir = try folder()
        let data = try CSVFixtures.temporaryFile(NoisyLevelsFixture.csv)
        let model = dir.appendingPathComponent("m.keel").path
        let report = dir.appendingPathComponent("report").path
        let screened = try KeelProcess.run(["train", data, "--target", "label", "--trials", "1", "--out", model, "--report", report, "--quiet"])
        #expect(screened.status == 0, "\(screened.stderr)")
        #expect(screened.stdout.contains("column screen: dropped 'surname' (80 levels; probe roc_auc"), "\(screened.stdout)")
        #expect(screened.stdout.contains("kept 'city' (60 levels"))
        let markdown = try String(contentsOfFile: report + "/report.md", encoding: .utf8)
        #expect(markdown.contains("## Column screen") && markdown.contains("dropped 'surname'"))
        // Predictions need no dropped column.
        let scored = try CSVFixtures.temporaryFile(NoisyLevelsFixture.csv.split(separator: "\n").map { $0.split(separator: ",").dropFirst().joined(separator: ",") }
            .joined(separator: "\n") + "\n")
        #expect(try KeelProcess.run(["predict", model, scored, "--out", dir.appendingPathComponent("p.csv").path]).status == 0)
        let forced = try KeelProcess.run(["train", data, "--target", "label", "--trials", "1", "--out", model, "--feature", "surname", "--quiet"])
        #expect(forced.status == 0 && forced.stdout.contains("column screen: kept 'city'") && !forced.stdout.contains("'surname'"), "\(forced.stdout)")
        let off = try KeelProcess.run(["train", data, "--target", "label", "--trials", "1", "--out", model, "--no-column-screen", "--quiet"])
        #expect(off.status == 0 && !off.stdout.contains("column screen"))
        let config = dir.appendingPathComponent("train.yaml").path
        try "column_screen: false\n".write(toFile: config, atomically: true, encoding: .utf8)
        let configured = try KeelProcess.run(["train", data, "--target", "label", "--trials", "1", "--out", model, "--config", config, "--quiet"])
        #expect(configured.status == 0 && !configured.stdout.contains("column screen"), "\(configured.stderr)")
    }

    @Test func sigtermEndsTheSearchEarlyAndStillWritesTheModel() throws {
        let dir = try folder()
        let model = dir.appendingPathComponent("m.keel").path
        let report = dir.appendingPathComponent("report").path
        let data = Datasets.packageRoot.appendingPathComponent("examples/customer_churn.csv").path
        let process = Process()
        process.executableURL = KeelProcess.executable
        process.arguments = ["train", data, "--target", "churned", "--time", "60s", "--out", model, "--report", report]
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        let started = Date()
        try process.run()
        Thread.sleep(forTimeInterval: 6)
        process.terminate()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(stderr)")
        #expect(Date().timeIntervalSince(started) < 40, "stopped well before the 60 s budget")
        #expect(stderr.contains("stop requested"))
        #expect(FileManager.default.fileExists(atPath: model))
        let markdown = try String(contentsOfFile: report + "/report.md", encoding: .utf8)
        #expect(markdown.contains("stopped early on request"))
    }

    @Test func badRequestsFailClearly() throws {
        let dir = try folder()
        let data = Datasets.packageRoot.appendingPathComponent("examples/customer_churn.csv").path
        let noTarget = try KeelProcess.run(["train", data])
        #expect(noTarget.status == 2 && noTarget.stderr.contains("train needs --target"))
        let badFamily = try KeelProcess.run(["train", data, "--target", "churned", "--learner", "xgboost"])
        #expect(badFamily.status == 2 && badFamily.stderr.contains("unknown learner family 'xgboost'"))
        let badMetric = try KeelProcess.run(["train", data, "--target", "churned", "--metric", "rmse", "--trials", "1"])
        #expect(badMetric.status == 1 && badMetric.stderr.contains("metric rmse does not fit a binary task"))
        let missingModel = try KeelProcess.run(["predict", dir.appendingPathComponent("none.keel").path, data])
        #expect(missingModel.status == 1 && missingModel.stderr.contains("cannot read model file"))
        let model = dir.appendingPathComponent("m.keel").path
        #expect(try KeelProcess.run(["train", data, "--target", "churned", "--trials", "1", "--out", model, "--quiet"]).status == 0)
        let partial = try CSVFixtures.temporaryFile("customer_id,plan\nC1,basic\n")
        let lacking = try KeelProcess.run(["predict", model, partial])
        #expect(lacking.status == 1 && lacking.stderr.contains("is required: it had no missing values in training"), "\(lacking.stderr)")
    }
}

@Suite struct TrainConfigTests {
    @Test func configFileOverridesAndStrictKeys() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("keel-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let data = Datasets.packageRoot.appendingPathComponent("examples/customer_churn.csv").path
        let config = dir.appendingPathComponent("train.yaml").path
        try "trials: 2\nlearners: [linear]\nmonotone: {monthly_fee: 1}\nignore: [signup_date]\n".write(toFile: config, atomically: true, encoding: .utf8)
        let report = dir.appendingPathComponent("report").path
        let result = try KeelProcess.run(["train", data, "--target", "churned", "--config", config, "--quiet", "--json",
                                          "--out", dir.appendingPathComponent("m.keel").path, "--report", report])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let trials = json?["trials"] as? [[String: Any]] ?? []
        #expect(trials.count == 2 && trials.allSatisfy { $0["family"] as? String == "linear" })
        let markdown = try String(contentsOfFile: report + "/report.md", encoding: .utf8)
        #expect(markdown.contains("`monotone monthly_fee=+1`") && markdown.contains("`--ignore signup_date`"))
        try "trails: 3\n".write(toFile: config, atomically: true, encoding: .utf8)
        let typo = try KeelProcess.run(["train", data, "--target", "churned", "--config", config])
        #expect(typo.status == 1 && typo.stderr.contains("unknown key 'trails'"))
        try "trials: three\n".write(toFile: config, atomically: true, encoding: .utf8)
        let wrongType = try KeelProcess.run(["train", data, "--target", "churned", "--config", config])
        #expect(wrongType.status == 1 && wrongType.stderr.contains("at trials"))
    }

    @Test func fixedHyperparametersPinEveryConfigurationOfTheirFamily() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("keel-fixed-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let data = dir.appendingPathComponent("churn.csv").path
        try CustomerChurnFixture.csv.write(toFile: data, atomically: true, encoding: .utf8)
        let config = dir.appendingPathComponent("fixed.yaml").path
        try "learners: [gbdt]\nhyperparameters:\n  gbdt: {rounds: 37, max_leaves: 7, early_stopping_rounds: 0}\n".write(toFile: config, atomically: true, encoding: .utf8)
        let model = dir.appendingPathComponent("m.keel").path
        let result = try KeelProcess.run(["train", data, "--target", "churned", "--config", config, "--trials", "3", "--json", "--out", model])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let trials = json?["trials"] as? [[String: Any]] ?? []
        #expect(trials.count == 3 && trials.allSatisfy { ($0["summary"] as? String)?.contains("7 leaves") == true }, "\(trials)")
        // The shipped model has exactly the pinned rounds: with early stopping off they are not rescaled.
        let artifact = try Artifact.read(from: model)
        let members: [FittedModel] = if case .ensemble(let ensemble) = artifact.model.predictor.model { ensemble.members } else { [artifact.model.predictor.model] }
        #expect(!members.isEmpty)
        for member in members {
            guard case .gradientBoosting(let boosted) = member else {
                Issue.record("only boosted models were allowed"); continue
            }
            #expect(boosted.trees.count == 37)
        }
        try "hyperparameters:\n  gbdt: {round: 5}\n".write(toFile: config, atomically: true, encoding: .utf8)
        let typo = try KeelProcess.run(["train", data, "--target", "churned", "--config", config])
        #expect(typo.status == 1 && typo.stderr.contains("unknown setting 'round'"), "\(typo.stderr)")
    }

    @Test func costsMoveTheDecisionThresholdAndTheArtefactKeepsIt() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("keel-costs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let data = dir.appendingPathComponent("churn.csv").path
        try CustomerChurnFixture.csv.write(toFile: data, atomically: true, encoding: .utf8)
        let model = dir.appendingPathComponent("m.keel").path
        let result = try KeelProcess.run(["train", data, "--target", "churned", "--trials", "2", "--learner", "linear", "--costs", "1,9",
                                          "--json", "--out", model])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let calibration = try #require(report["calibration"] as? [String: Any])
        let threshold = try #require(calibration["threshold"] as? Double)
        #expect(threshold < 0.35, "a miss costs nine false alarms: \(threshold)")
        #expect((calibration["thresholdReason"] as? String)?.contains("costs FP=1, FN=9") == true)
        #expect((calibration["logLoss"] as? [String: Double])?["none"] != nil)
        let artifact = try Artifact.read(from: model)
        #expect(abs((artifact.model.predictor.decisionThreshold ?? 0) - threshold) < 1e-12)
        // Predictions apply the threshold: every row at or above it is labelled with the positive class.
        let out = dir.appendingPathComponent("p.csv").path
        #expect(try KeelProcess.run(["predict", model, data, "--out", out]).status == 0)
        let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        let header = try #require(lines.first)
        let label = try #require(header.firstIndex(of: "prediction")), positive = try #require(header.firstIndex(of: "proba_yes"))
        #expect(lines.dropFirst().allSatisfy { ($0[label] == "yes") == ((Double($0[positive]) ?? .nan) >= threshold) })
        let bad = try KeelProcess.run(["train", data, "--target", "churned", "--costs", "1"])
        #expect(bad.status == 2 && bad.stderr.contains("--costs takes two"))
    }

    @Test func maxMemoryShrinksTheSearchAndSaysSo() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("keel-memory-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let data = Datasets.packageRoot.appendingPathComponent("examples/customer_churn.csv").path
        let model = dir.appendingPathComponent("m.keel").path
        let small = try KeelProcess.run(["train", data, "--target", "churned", "--trials", "8", "--max-memory", "4M", "--out", model, "--no-registry"])
        #expect(small.status == 0, "\(small.stderr)")
        #expect(small.stdout.contains("left out by the memory budget: ") && small.stdout.contains("memory: budget 4.0 MB"), "\(small.stdout)")
        #expect(small.stdout.contains("validating on one split"))
        let tiny = try KeelProcess.run(["train", data, "--target", "churned", "--trials", "2", "--max-memory", "100K", "--out", model, "--no-registry"])
        #expect(tiny.status == 1 && tiny.stderr.contains("over half of the memory budget") && tiny.stderr.contains("--max-memory"), "\(tiny.stderr)")
        let bad = try KeelProcess.run(["train", data, "--target", "churned", "--max-memory", "lots"])
        #expect(bad.status == 2 && bad.stderr.hasPrefix("error: --max-memory takes a size"), "\(bad.stderr)")
    }

    @Test func aRegistryThatCannotBeWrittenDoesNotCostTheModel() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("keel-noreg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let data = Datasets.packageRoot.appendingPathComponent("examples/customer_churn.csv").path
        let model = dir.appendingPathComponent("m.keel").path
        let result = try KeelProcess.run(["train", data, "--target", "churned", "--trials", "1", "--registry", "/proc/keel-cannot-be-here", "--out", model, "--quiet"])
        #expect(result.status == 0 && result.stderr.contains("warning: the model was not registered (cannot create the registry at /proc/keel-cannot-be-here"), "\(result.stderr)")
        #expect(try Artifact.read(from: model).model.schema.target == "churned")
    }
}
