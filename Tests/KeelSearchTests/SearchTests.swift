#if canImport(Glibc)
import Glibc
#endif
import Foundation
import KeelData
import KeelLearn
@testable import KeelSearch
import KeelTestSupport
import Testing

@Suite(.serialized) struct SearchTests {
    private func churn(rows: Int = 1200) throws -> (Frame, Schema) {
        let frame = try CSVFixtures.read(CustomerChurnFixture.sample(rows: rows))
        return (frame, try SchemaInference.infer(frame, target: "churned").schema)
    }

    @Test func holdoutRowsNeverReachATrial() throws {
        let (frame, schema) = try churn()
        var settings = SearchSettings()
        settings.seed = 3
        let plan = try ValidationPlan.make(frame: frame, schema: schema,
                                           target: TargetEncoding(column: frame["churned"]!, task: schema.task!), settings: settings)
        #expect(Set(plan.holdout.train).isDisjoint(with: plan.holdout.validation))
        #expect(plan.holdout.validation.count == 240)
        // Folds index the search part only: every fold row maps into holdout.train.
        for fold in plan.folds {
            #expect((fold.train + fold.validation).allSatisfy { $0 < plan.holdout.train.count })
        }
        // The fold data a trial sees holds exactly the search rows: no holdout row is in any fold.
        let searchIDs = Set(plan.holdout.train.map { frame["customer_id"]!.displayValue(at: $0)! })
        let holdoutIDs = Set(plan.holdout.validation.map { frame["customer_id"]!.displayValue(at: $0)! })
        let searchFrame = frame.selecting(rows: plan.holdout.train)
        let seen = Set((0..<searchFrame.rowCount).map { searchFrame["customer_id"]!.displayValue(at: $0)! })
        #expect(seen == searchIDs && seen.isDisjoint(with: holdoutIDs))
    }

    @Test func timeColumnGivesATimeOrderedHoldout() throws {
        let (frame, inferred) = try churn()
        var schema = inferred
        var overrides = SchemaOverrides()
        overrides.time = "snapshot_month"
        try overrides.apply(to: &schema, frame: frame)
        let plan = try ValidationPlan.make(frame: frame, schema: schema, target: TargetEncoding(column: frame["churned"]!, task: schema.task!),
                                           settings: SearchSettings())
        guard case .datetime(let months) = frame["snapshot_month"]!.values else { Issue.record("datetime expected"); return }
        #expect(plan.holdout.train.map { months[$0] }.max()! < plan.holdout.validation.map { months[$0] }.min()!)
        #expect(plan.description.hasPrefix("time-ordered"))
    }

    @Test func fixedTrialCountIsReproducibleToTheByte() throws {
        let (frame, schema) = try churn(rows: 800)
        var settings = SearchSettings()
        settings.trials = 3
        settings.seed = 11
        let (a, reportA) = try Search.run(frame: frame, schema: schema, settings: settings)
        let (b, reportB) = try Search.run(frame: frame, schema: schema, settings: settings)
        #expect(reportA.trials.map(\.foldScores) == reportB.trials.map(\.foldScores))
        #expect(reportA.trials.count == 3)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        #expect(try encoder.encode(a.predictor.model) == encoder.encode(b.predictor.model))
        #expect(a.provenance.holdoutScore == b.provenance.holdoutScore)
        settings.seed = 12
        let (_, reportC) = try Search.run(frame: frame, schema: schema, settings: settings)
        #expect(reportC.trials.map(\.foldScores) != reportA.trials.map(\.foldScores))
    }

    @Test func sampledBoostingIsAveragedOverSeedsAndTheHoldoutScoresTheAverage() throws {
        let (frame, schema) = try churn(rows: 800)
        var settings = SearchSettings()
        settings.trials = 1
        settings.learners = ["gbdt"]
        settings.fixed = try FixedHyperparameters(["gbdt": ["row_subsample": 0.8, "column_subsample": 0.8]])
        let outcome = try Search.outcome(frame: frame, schema: schema, settings: settings)
        #expect(outcome.report.seedBags == 3 && outcome.report.replay.seedBagged == true)
        guard case .ensemble(let bagged) = outcome.model.predictor.model else { Issue.record("an average of seeds expected"); return }
        #expect(bagged.members.count == 3 && bagged.weights.allSatisfy { abs($0 - 1.0 / 3) < 1e-12 })
        // Three different fits of one configuration, whose mean margin is what ships and what the holdout scored.
        let matrix = try outcome.model.predictor.features(outcome.holdout)
        let margins = try bagged.members.map { try $0.rawScores(matrix, task: .binary) }
        #expect(margins[0] != margins[1] && margins[1] != margins[2])
        let mean = (0..<matrix.rowCount).map { row in margins.reduce(0) { $0 + $1[row] } / 3 }
        #expect(zip(try outcome.model.predictor.model.rawScores(matrix, task: .binary), mean).allSatisfy { abs($0 - $1) < 1e-9 })
        let truth = try TargetEncoding(column: outcome.holdout["churned"]!, task: schema.task!).values
        let score = try Metric.rocAUC.evaluate(truth: truth, predictions: outcome.model.predictor.outputs(outcome.holdout), classCount: 2)
        #expect(abs(score - outcome.report.holdoutScore) < 1e-12)
        // Without sampling every fit is the same: nothing to average.
        settings.fixed = try FixedHyperparameters(["gbdt": ["row_subsample": 1, "column_subsample": 1]])
        let plain = try Search.outcome(frame: frame, schema: schema, settings: settings)
        #expect(plain.report.seedBags == nil && plain.report.replay.seedBagged == false)
    }

    /// A time-limited run, replayed without the clock from its recorded schedule, gives the same model, even
    /// when the deadline cut trials short (a budget this tight usually cuts the last trial short).
    @Test func timeLimitedRunReplaysToTheSameModel() throws {
        let (frame, schema) = try churn(rows: 6000)
        var settings = SearchSettings()
        settings.timeBudget = 4
        settings.seed = 5
        let original = try Search.outcome(frame: frame, schema: schema, settings: settings)
        let schedule = original.report.replay
        #expect(schedule.trialCount == original.report.trials.count)
        #expect(schedule.stoppedTrials == original.report.trials.filter { $0.status == .stopped }.map(\.id))
        settings.trials = schedule.trialCount
        settings.replay = schedule
        let replayed = try Search.outcome(frame: frame, schema: schema, settings: settings)
        #expect(replayed.report.trials.map(\.status) == original.report.trials.map(\.status))
        #expect(replayed.report.trials.map(\.foldScores) == original.report.trials.map(\.foldScores))
        if !schedule.refitCutShort {
            var (a, b) = (original.model, replayed.model)
            (a.provenance.createdAt, b.provenance.createdAt) = ("", "")
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            #expect(try encoder.encode(a) == encoder.encode(b))
            #expect(original.report.holdoutScore == replayed.report.holdoutScore)
        } else {
            // Not a silent skip: a refit cut short by the budget cannot be replayed byte for byte, and the run says so.
            #expect(original.report.warnings.contains { $0.contains("cut short") }, "refitCutShort is reported: \(original.report.warnings)")
        }
    }

    /// With too little memory for every fold the search validates on one split; trials whose estimate does not
    /// fit beside the folds are left out and say why; a budget too small for one split is a clear error.
    @Test func memoryBudgetShrinksFoldsAndLeavesOutWhatWouldNotFit() throws {
        let (frame, schema) = try churn(rows: 3000)
        var settings = SearchSettings()
        settings.trials = 6
        let roomy = try Search.run(frame: frame, schema: schema, settings: settings).1
        #expect(roomy.memory.budget == MemoryBudget.standard.bytes && roomy.validation.hasPrefix("stratified 5-fold"))
        let perFold = roomy.memory.folds / 5
        // Room for one fold (under half the budget) but not five; linear models fit beside it, forests do not.
        settings.memory = MemoryBudget(bytes: perFold * 3)
        let tight = try Search.run(frame: frame, schema: schema, settings: settings).1
        #expect(tight.validation.contains("reduced to its first split by the memory budget"), "\(tight.validation)")
        #expect(tight.memory.folds == perFold)
        let leftOut = tight.trials.filter { $0.message?.contains("--max-memory") == true }
        let ran = tight.trials.filter { $0.status == .completed }
        #expect(!ran.isEmpty, "something still fits")
        #expect(tight.memory.estimatedPeak <= tight.memory.budget, "what ran was estimated to fit")
        #expect(leftOut.allSatisfy { $0.status == .failed && $0.foldScores.isEmpty })
        #expect(leftOut.contains { $0.family == "random_forest" || $0.family == "extra_trees" }, "\(tight.trials.map { ($0.family, $0.status) })")
        settings.memory = MemoryBudget(bytes: perFold)
        #expect(throws: SearchError.self) { try Search.run(frame: frame, schema: schema, settings: settings) }
    }

    @Test(.timeLimit(.minutes(1))) func timeBudgetIsKept() throws {
        let (frame, schema) = try churn(rows: 3000)
        var settings = SearchSettings()
        settings.timeBudget = 8
        let started = ContinuousClock.now
        let (_, report) = try Search.run(frame: frame, schema: schema, settings: settings)
        let used = (ContinuousClock.now - started).seconds
        #expect(used <= 8 * 1.05, "used \(used)s of 8s")
        #expect(report.trials.contains { $0.status == .completed })
        #expect(report.holdoutScore > 0.7)
    }

    @Test(.timeLimit(.minutes(1))) func timeBudgetIsKeptForManyClasses() throws {
        // 26 classes: the multinomial linear model once ignored the deadline and ran for minutes.
        let (frame, schema) = try Datasets.sample("letter_recognition", rows: 6000)
        var settings = SearchSettings()
        settings.timeBudget = 8
        let started = ContinuousClock.now
        let (_, report) = try Search.run(frame: frame, schema: schema, settings: settings)
        let used = (ContinuousClock.now - started).seconds
        #expect(used <= 8 * 1.05, "used \(used)s of 8s")
        #expect(report.holdoutScore < log(26.0), "better than guessing: log loss \(report.holdoutScore) vs ln 26")
    }

    @Test func multiclassProbabilitiesAreTemperatureScaledWhenItLowersTheOutOfFoldLogLoss() throws {
        // Forests' vote shares are under-confident on many classes: a temperature below 1 sharpens them.
        let (frame, schema) = try Datasets.sample("letter_recognition", rows: 3000)
        var settings = SearchSettings()
        settings.trials = 1
        settings.learners = ["random_forest"]
        let (model, report) = try Search.run(frame: frame, schema: schema, settings: settings)
        let choice = try #require(report.calibration)
        #expect(choice.method == "temperature", "out-of-fold log loss \(choice.logLoss)")
        #expect(try #require(choice.logLoss["temperature"]) < (try #require(choice.logLoss["none"])))
        guard case .temperature(let t) = try #require(model.predictor.calibration) else { Issue.record("a temperature expected"); return }
        #expect(t < 1)
        // Shipped probabilities are softmax(margin / T); the classes they pick are the uncalibrated model's.
        let sample = frame.selecting(rows: Array(0..<200))
        let matrix = try model.predictor.features(sample)
        let scaled = ScoreLink.apply(try model.predictor.model.rawScores(matrix, task: .multiclass).map { $0 / t }, task: .multiclass, outputs: 26)
        #expect(zip(try model.predictor.outputs(sample), scaled).allSatisfy { abs($0 - $1) < 1e-12 })
        var plain = model
        plain.predictor.calibration = nil
        #expect(try model.predictor.predict(sample).map(\.label) == plain.predictor.predict(sample).map(\.label))
    }

    @Test func requiredFeaturesMustBePresentAndNullableOnesMayBeAbsent() throws {
        let (frame, schema) = try churn(rows: 600)
        var settings = SearchSettings()
        settings.trials = 2
        let (model, _) = try Search.run(frame: frame, schema: schema, settings: settings)
        // A required feature that is absent is a clear error; a nullable one may be absent.
        #expect(CSVFixtures.errorMessage { _ = try model.predictor.predict(frame.selecting(columns: ["region", "usage_hours"])) }?.contains("is required: it had no missing values in training") == true)
        let withoutNullable = try frame.selecting(columns: frame.columnNames.filter { $0 != "region" })
        #expect(try model.predictor.predict(withoutNullable).count == frame.rowCount)
    }

    @Test func refitFullShipsAModelFittedOnAllRowsAndSaysSo() throws {
        let (frame, schema) = try churn(rows: 600)
        var settings = SearchSettings()
        settings.trials = 2
        let (scored, plain) = try Search.run(frame: frame, schema: schema, settings: settings)
        settings.refitFull = true
        let (full, report) = try Search.run(frame: frame, schema: schema, settings: settings)
        #expect(report.refittedOnAllRows && !plain.refittedOnAllRows)
        #expect(report.holdoutScore == plain.holdoutScore, "the holdout score is the one of the model before the refit")
        #expect(report.warnings.contains { $0.contains("refitted on all 600 rows") })
        #expect(try full.predictor.outputs(frame) != scored.predictor.outputs(frame))
    }

    @Test func badInputIsAClearError() throws {
        let (frame, schema) = try churn(rows: 300)
        var settings = SearchSettings()
        settings.metric = .rmse
        #expect(CSVFixtures.errorMessage { _ = try Search.run(frame: frame, schema: schema, settings: settings) } == "metric rmse does not fit a binary task")
        var noTarget = schema
        noTarget.target = nil
        #expect(CSVFixtures.errorMessage { _ = try Search.run(frame: frame, schema: noTarget, settings: SearchSettings()) } == "a search needs a target column (--target)")
    }
}
