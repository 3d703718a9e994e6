import Foundation
import KeelData
import KeelLearn
@testable import KeelSearch
import KeelTestSupport
import Testing

/// Categorical columns whose levels are numbers reach the trees as their values too when a probe scores
/// better with them.
@Suite(.serialized) struct ValueScreenTests {
    /// Soybean's columns are disease codes such as 0–3 that schema inference reads as categories; ordered
    /// codes on 500 rows are what the values are for.
    @Test func soybeanCodesGetTheirValuesAndAReplayAppliesTheVerdict() throws {
        let (frame, schema) = try Datasets.sample("soybean", rows: 683)
        var settings = SearchSettings()
        settings.trials = 1
        let outcome = try Search.outcome(frame: frame, schema: schema, settings: settings)
        let screen = try #require(outcome.report.replay.valueScreen)
        #expect(screen.columns.count >= 10 && screen.columns.contains("date"), "\(screen.columns)")
        #expect(screen.kept && screen.scoreWith < screen.scoreWithout, "\(screen)")
        // The probe is the first trial's configuration on the same folds, so the first trial scores as the probe with values.
        #expect(outcome.report.trials[0].mean == screen.scoreWith)
        #expect(outcome.model.predictor.pipeline.levelValues.map(\.column) == screen.columns)
        #expect(outcome.model.predictor.pipeline.featureNames.contains("date.value") && outcome.model.predictor.pipeline.featureNames.contains("date"))
        #expect(outcome.report.valueScreenSummary?.hasPrefix("added the values of \(screen.columns.count) categorical columns") == true)
        // A replay applies the recorded verdict without probing, either way; a record from before the screen had none.
        var schedule = outcome.report.replay
        settings.replay = schedule
        let replayed = try Search.outcome(frame: frame, schema: schema, settings: settings)
        #expect(replayed.report.replay.valueScreen == screen && replayed.model.predictor.pipeline == outcome.model.predictor.pipeline)
        #expect(replayed.report.trials.map(\.foldScores) == outcome.report.trials.map(\.foldScores))
        schedule.valueScreen = nil
        settings.replay = schedule
        let old = try Search.outcome(frame: frame, schema: schema, settings: settings)
        #expect(old.report.replay.valueScreen == nil && old.model.predictor.pipeline.levelValues.isEmpty)
        #expect(old.report.trials[0].mean == screen.scoreWithout)
    }

    /// Without such columns there is nothing to screen and no probe runs.
    @Test func tablesWithoutNumericCodesAreNotScreened() throws {
        let frame = try CSVFixtures.read(CustomerChurnFixture.sample(rows: 600))
        var schema = try SchemaInference.infer(frame, target: "churned").schema
        let codes = LevelValues.columns(try frame.conforming(to: schema), schema: schema)
        for name in codes { schema.columns[schema.columns.firstIndex { $0.name == name }!].role = .ignored }
        var settings = SearchSettings()
        settings.trials = 1
        let outcome = try Search.outcome(frame: frame, schema: schema, settings: settings)
        #expect(outcome.report.replay.valueScreen == nil && outcome.report.valueScreenSummary == nil)
        #expect(outcome.model.predictor.pipeline.levelValues.isEmpty)
    }
}
