import Foundation
import KeelData
import KeelLearn
@testable import KeelSearch
import KeelTestSupport
import Testing

@Suite(.serialized) struct OverrideTests {
    private func churn() throws -> (Frame, Schema) {
        let frame = try CSVFixtures.read(CustomerChurnFixture.sample(rows: 700))
        return (frame, try SchemaInference.infer(frame, target: "churned").schema)
    }

    @Test func monotoneConstraintsReachEveryLearnerAndLeaveForestsOut() throws {
        let (frame, schema) = try churn()
        var settings = SearchSettings()
        settings.trials = 4
        settings.monotone = ["monthly_fee": 1]
        let (model, report) = try Search.run(frame: frame, schema: schema, settings: settings)
        #expect(report.warnings.contains { $0.contains("left out: they cannot honour monotonic constraints") })
        #expect(!report.trials.contains { $0.family == "random_forest" || $0.family == "extra_trees" })
        for trial in report.trials {
            switch trial.learner {
            case .gradientBoosting(let p): #expect(p.monotoneConstraints?.contains(1) == true)
            case .linear(let p): #expect(p.signConstraints?.contains(1) == true)
            case .explainableBoosting(let p): #expect(p.monotoneConstraints?.contains(1) == true)
            case .randomForest, .external: Issue.record("forests must be left out")
            }
        }
        // The shipped model's churn probability never falls as the fee rises.
        let rows = (0..<40).map { _ in 0 }
        var probe = frame.selecting(rows: rows)
        try probe.replace(Column(name: "monthly_fee", values: .numeric((0..<40).map { 10 + Double($0) * 4 })))
        let p = try model.predictor.predict(probe).map { $0.probabilities[1] }
        #expect(zip(p, p.dropFirst()).allSatisfy { $0 <= $1 + 1e-12 })
        settings.monotone = ["plan": 1]
        #expect(CSVFixtures.errorMessage { _ = try Search.run(frame: frame, schema: schema, settings: settings) }?.contains("needs a numeric feature column") == true)
    }

    @Test func preferInterpretableAndLatencyLimit() throws {
        let (frame, schema) = try churn()
        var settings = SearchSettings()
        settings.trials = 4
        settings.learners = ["gbdt", "linear"]
        settings.preferInterpretable = 1
        let (model, _) = try Search.run(frame: frame, schema: schema, settings: settings)
        guard case .linear = model.predictor.model else { Issue.record("a glassbox model within tolerance is chosen, got \(model.predictor.model.kindName)"); return }
        settings.preferInterpretable = nil
        settings.maxPredictMilliseconds = 1e-9
        let (_, report) = try Search.run(frame: frame, schema: schema, settings: settings)
        #expect(report.warnings.contains { $0.contains("no evaluated model scores one row within") })
    }

    @Test func balancedClassWeightsNeedClassification() throws {
        let frame = try CSVFixtures.read("x,y\n" + (0..<60).map { "\($0),\(Double($0) * 1.5)" }.joined(separator: "\n"))
        let schema = try SchemaInference.infer(frame, target: "y").schema
        var settings = SearchSettings()
        settings.trials = 1
        settings.balanceClasses = true
        #expect(CSVFixtures.errorMessage { _ = try Search.run(frame: frame, schema: schema, settings: settings) } == "class weights need a classification task")
    }
}

extension OverrideTests {
    @Test func linearBaseIsInThePortfolioAndCanBePinnedEitherWay() throws {
        func onLine(_ candidate: Portfolio.Candidate) -> Bool {
            if case .gradientBoosting(let p) = candidate.learner { p.linearBase != nil } else { false }
        }
        let all = Set(SearchSettings.learnerFamilies)
        for task in [TaskKind.binary, .regression, .multiclass] {
            let entries = Portfolio.initial(rows: 2000, features: 10, task: task, outputs: task == .multiclass ? 3 : 1, families: all)
            #expect((entries.first + entries.later).contains(where: onLine) == (task != .multiclass), "\(task)")
        }
        // The memory estimate counts the linear fit's design matrix as well.
        var boosting = GradientBoostingParameters()
        let plainBytes = MemoryBudget.trialBytes(.gradientBoosting(boosting), rows: 50_000, features: 20, outputs: 1)
        boosting.linearBase = LinearFamily.ridgeBase
        let residualBytes = MemoryBudget.trialBytes(.gradientBoosting(boosting), rows: 50_000, features: 20, outputs: 1)
        #expect(residualBytes >= plainBytes + MemoryBudget.trialBytes(.linear(LinearFamily.ridgeBase), rows: 50_000, features: 20, outputs: 1))
        let (frame, schema) = try churn()
        var settings = SearchSettings()
        settings.trials = 3
        settings.learners = ["gbdt"]
        settings.fixed = try FixedHyperparameters(["gbdt": ["linear_base": 1]])
        let (model, report) = try Search.run(frame: frame, schema: schema, settings: settings)
        #expect(report.trials.count == 3)
        for trial in report.trials {
            guard case .gradientBoosting(let p) = trial.learner else { Issue.record("gbdt only"); continue }
            #expect(p.linearBase != nil && trial.summary.contains("on a ridge base"), "\(trial.summary)")
        }
        let truth = try TargetEncoding(column: frame["churned"]!, task: schema.task!).values
        let auc = try Metric.rocAUC.evaluate(truth: truth, predictions: model.predictor.outputs(frame), classCount: 2)
        #expect(auc > 0.7, "the shipped linear-plus-trees model predicts (AUC \(auc))")
        settings.trials = 12
        settings.fixed = try FixedHyperparameters(["gbdt": ["linear_base": 0]])
        let (_, plain) = try Search.run(frame: frame, schema: schema, settings: settings)
        #expect(!plain.trials.contains { if case .gradientBoosting(let p) = $0.learner { p.linearBase != nil } else { false } })
    }
}
