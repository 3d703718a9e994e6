import Foundation
import KeelData
import KeelLearn
@testable import KeelSearch
import KeelTestSupport
import Testing

/// When the refit of the chosen trial on every search row cannot finish in the budget, the run ships the
/// complete model the trial fitted on its first fold (the one cross-validation scored) rather than a
/// cut-short one, says so, and a replay does the same.
@Suite(.serialized) struct FoldModelFallbackTests {
    private func churn() throws -> (Frame, Schema) {
        let frame = try CSVFixtures.read(CustomerChurnFixture.sample(rows: 900))
        return (frame, try SchemaInference.infer(frame, target: "churned").schema)
    }

    @Test func aRefitWithNoTimeLeftShipsTheTrialsCompleteFoldModel() throws {
        let (frame, schema) = try churn()
        var settings = SearchSettings()
        settings.trials = 1
        settings.learners = ["gbdt"]
        var run = try SearchRun(frame: frame, schema: schema, settings: settings) { _ in }
        run.runTrials { _ in }
        let trial = try #require(run.trials.first { $0.status == .completed })
        // The deadline has passed before the refit starts: the refit stops at once.
        run.budget.runOut(at: .now)
        let choice = try run.choose { _ in }
        #expect(run.decisions.shippedFoldModel && !run.decisions.refitCutShort)
        // The shipped model is the first fold's: on that fold's validation rows it gives exactly the
        // trial's out-of-fold margins.
        let fold = run.evaluator.folds[0]
        let margins = try choice.model.rawScores(fold.valid, task: .binary)
        let outOfFold = try #require(run.outOfFold[trial.id])
        for (i, row) in fold.validRows.enumerated() { #expect(abs(margins[i] - outOfFold[row]) < 1e-12) }
        let (trained, report) = try run.finish(choice) { _ in }
        #expect(report.replay.shippedFoldModel == true && !report.replay.refitCutShort)
        #expect(report.warnings.contains { $0.contains("complete model from the first fold") }, "\(report.warnings)")
        #expect(report.holdoutScore.isFinite && trained.predictor.pipeline.featureNames == fold.featureNames)

        // A replay of that schedule ships the fold model again, without refitting.
        settings.replay = report.replay
        let replayed = try Search.outcome(frame: frame, schema: schema, settings: settings)
        #expect(replayed.report.replay.shippedFoldModel == true)
        #expect(replayed.report.holdoutScore == report.holdoutScore)
    }
}
