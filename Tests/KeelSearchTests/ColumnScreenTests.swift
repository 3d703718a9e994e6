import Foundation
import KeelData
import KeelLearn
@testable import KeelSearch
import KeelTestSupport
import Testing

@Suite(.serialized) struct ColumnScreenTests {
    private func customers() throws -> (Frame, Schema) {
        let frame = try CSVFixtures.read(NoisyLevelsFixture.csv)
        var schema = try SchemaInference.infer(frame, target: "label").schema
        for name in ["surname", "city"] { schema.columns[schema.columns.firstIndex { $0.name == name }!].role = .feature }
        return (frame, schema)
    }

    @Test func noiseLevelsAreDroppedAndInformativeOnesKept() throws {
        let (frame, schema) = try customers()
        var settings = SearchSettings()
        settings.trials = 2
        let outcome = try Search.outcome(frame: frame, schema: schema, settings: settings)
        let screen = try #require(outcome.report.replay.columnScreen)
        #expect(screen.map(\.column) == ["surname", "city"], "most levels first")
        let surname = screen[0], city = screen[1]
        #expect(surname.dropped && surname.scoreWithout > surname.scoreWith, "\(surname)")
        #expect(!city.dropped && city.scoreWith > city.scoreWithout + 0.02, "\(city)")
        #expect(city.scoreWith == surname.scoreWithout, "each verdict is taken against the columns kept so far")
        #expect(surname.folds == outcome.report.trials[0].foldScores.count && (0...surname.folds).contains(surname.foldsBetterWithout))
        // The shipped model neither uses nor needs the dropped column; the replay schedule records the verdicts.
        #expect(outcome.model.schema["surname"]?.role == .ignored)
        #expect(!outcome.model.predictor.pipeline.sources.contains("surname") && outcome.model.predictor.pipeline.sources.contains("city"))
        let withoutSurname = try frame.selecting(columns: ["city", "x1", "x2"])
        #expect(try outcome.model.predictor.outputs(withoutSurname) == outcome.model.predictor.outputs(frame))
        #expect(outcome.report.warnings.contains { $0.contains("left out by the column screen") && $0.contains("'surname'") })
        #expect(outcome.report.columnScreenSummary?.hasPrefix("dropped 'surname' (") == true)
    }

    @Test func keptColumnsAndTheSwitchAreHonoured() throws {
        let (frame, schema) = try customers()
        var settings = SearchSettings()
        settings.trials = 1
        settings.keepColumns = ["surname"]
        let kept = try Search.outcome(frame: frame, schema: schema, settings: settings)
        #expect(kept.report.replay.columnScreen?.map(\.column) == ["city"])
        #expect(kept.model.predictor.pipeline.sources.contains("surname"))
        settings.screenColumns = false
        settings.keepColumns = []
        let off = try Search.outcome(frame: frame, schema: schema, settings: settings)
        #expect(off.report.replay.columnScreen == nil && off.report.columnScreenSummary == nil)
        #expect(off.model.predictor.pipeline.sources.contains("surname"))
    }

    /// A replay applies the recorded verdicts without probing, so a screen cut short by the clock replays
    /// as it ran; a record from before the screen existed replays with every column.
    @Test func aReplayAppliesTheRecordedVerdicts() throws {
        let (frame, schema) = try customers()
        var settings = SearchSettings()
        settings.trials = 1
        var schedule = try Search.outcome(frame: frame, schema: schema, settings: settings).report.replay
        schedule.columnScreen = [ColumnScreen(column: "city", levels: 60, with: TrialResult.scored([0.9]), without: TrialResult.scored([0.95]),
                                              metric: .rocAUC)]
        settings.replay = schedule
        let replayed = try Search.outcome(frame: frame, schema: schema, settings: settings)
        #expect(replayed.report.replay.columnScreen == schedule.columnScreen)
        #expect(replayed.model.schema["city"]?.role == .ignored && replayed.model.predictor.pipeline.sources.contains("surname"))
        schedule.columnScreen = nil
        settings.replay = schedule
        let old = try Search.outcome(frame: frame, schema: schema, settings: settings)
        #expect((old.report.replay.columnScreen ?? []).isEmpty && old.model.predictor.pipeline.sources.contains("surname") && old.model.predictor.pipeline.sources.contains("city"))
    }

    /// A replay's screens are decided before any fold is built: the recorded verdicts shape the schema and
    /// the pipeline's options (`RecordedScreens`), the folds are built once on them, and the number of
    /// splits comes from the record rather than from a memory check on folds of other columns.
    @Test func aReplayDecidesItsScreensFirstAndBuildsItsFoldsOnceOnThem() throws {
        let (frame, schema) = try customers()
        var settings = SearchSettings()
        settings.trials = 1
        var schedule = try Search.outcome(frame: frame, schema: schema, settings: settings).report.replay
        #expect((schedule.validationSplits ?? 0) > 1)
        var identified = schema
        identified.columns[identified.columns.firstIndex { $0.name == "surname" }!].role = .id
        schedule.identifierScreen = [ColumnScreen(column: "surname", levels: 60, with: TrialResult.scored([0.95]), without: TrialResult.scored([0.9]),
                                                  metric: .rocAUC)]
        schedule.identifierScreen![0].dropped = false
        schedule.columnScreen = [ColumnScreen(column: "city", levels: 60, with: TrialResult.scored([0.9]), without: TrialResult.scored([0.95]),
                                              metric: .rocAUC)]
        let recorded = RecordedScreens(schedule, schema: identified, screenColumns: true)
        #expect(recorded.schema["surname"]?.role == .feature && recorded.schema["city"]?.role == .ignored && !recorded.levelValues)
        #expect(recorded.decisions.identifierScreen == schedule.identifierScreen && recorded.decisions.columnScreen == schedule.columnScreen)
        #expect(recorded.warnings == [RecordedScreens.keptIdentifiers(["surname"]), RecordedScreens.leftOut(["city"])])
        #expect(RecordedScreens(schedule, schema: identified, screenColumns: false).schema == identified, "screens off: no verdict applies")

        // A run the memory budget held to one split replays on one split, whatever its columns weigh now.
        schedule.validationSplits = 1
        settings.replay = schedule
        let replayed = try Search.outcome(frame: frame, schema: identified, settings: settings)
        #expect(replayed.model.provenance.validation.contains("reduced to its first split by the memory budget"))
        #expect(replayed.report.trials.allSatisfy { $0.foldScores.count <= 1 } && replayed.report.replay.validationSplits == 1)
        #expect(replayed.model.schema["city"]?.role == .ignored && replayed.model.predictor.pipeline.sources.contains("surname"))
        #expect(replayed.report.warnings.contains(RecordedScreens.keptIdentifiers(["surname"])))
    }
}

extension TrialResult {
    /// A completed result with these fold scores, for verdicts built by hand.
    static func scored(_ folds: [Double]) -> TrialResult {
        TrialResult(id: 0, family: "gbdt", summary: "", learner: .linear(LinearParameters()), foldScores: folds,
                    mean: folds.reduce(0, +) / Double(folds.count), std: 0, fitSeconds: 0, predictMillisecondsPer1000: 0, bestRounds: [],
                    status: .completed, message: nil)
    }
}
