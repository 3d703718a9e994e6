import Foundation
import KeelData
import KeelLearn
@testable import KeelSearch
import KeelTestSupport
import Testing

/// The budget answers every "may this step run, until when?" of the search: from the clock, from a replay's
/// record, or always yes with a fixed trial count; a trial never runs into the time its own refit needs.
struct BudgetTests {
    private func clocked(seconds: Double = 60, finalIn: Double) -> Budget {
        var budget = Budget(seconds: seconds, clocked: true, replay: nil)
        budget.runOut(at: .now + .seconds(finalIn))
        return budget
    }

    @Test func aTrialAfterTheFirstLeaderEndsWhereItsOwnRefitStillFits() throws {
        let budget = clocked(finalIn: 30)
        let now = ContinuousClock.now
        // A refit takes twice a fold's fit and the trial fits its folds in one batch: ending at t leaves
        // 30 − t for a refit of 2t, so t = 10.
        let limit = try #require(budget.trialDeadline(before: now + .seconds(25), share: 0.3, ownRefit: (perFoldFit: 2, batches: 1)))
        #expect(limit.limit == .ownRefit)
        let trial = (limit.deadline - now).seconds
        #expect(abs(trial - 10) < 0.05, "\(trial)")
        #expect(abs(trial * 2 - (30 - trial)) < 0.15, "the refit of a trial ending there fills the time left exactly")
        // Eight folds two at a time are four batches: a fold's fit is a quarter of the trial, so its own refit
        // allows 20 s, and its share of the budget (18 s) decides.
        let batched = try #require(budget.trialDeadline(before: now + .seconds(25), share: 0.3, ownRefit: (perFoldFit: 2, batches: 4)))
        #expect(abs((batched.deadline - now).seconds - 18) < 0.05 && batched.limit == .share)
        // Without a leader, the search deadline and the trial's share decide.
        let first = try #require(budget.trialDeadline(before: now + .seconds(25), share: 0.3, ownRefit: nil))
        #expect(first.limit == .share && abs((first.deadline - now).seconds - 18) < 0.05)
        let late = try #require(budget.trialDeadline(before: now + .seconds(5), share: 0.3, ownRefit: nil))
        #expect(late.limit == .searchDeadline)
    }

    @Test func theRefitPerFoldFitCountsTheRowsTheRoundsAndTheRefitOnAllRows() {
        let once = Budget.refitPerFoldFit(rowsRatio: 1.4, refitFull: false)
        #expect(abs(once - 1.4 * 1.1 * 1.15) < 1e-12)
        #expect(abs(Budget.refitPerFoldFit(rowsRatio: 1.4, refitFull: true) - once * 3.3) < 1e-12)
        // One model's own refits: on the search rows, then on all rows at the given scale of the first.
        #expect(abs(Budget.ownRefitPerFoldFit(rowsRatio: 1.4, fullRefitScale: nil) - once) < 1e-12)
        #expect(abs(Budget.ownRefitPerFoldFit(rowsRatio: 1.4, fullRefitScale: 1.625) - once * 2.625) < 1e-12)
    }

    @Test func withoutAClockEveryStepRunsAndNoDeadlineIsSet() {
        let budget = Budget(seconds: 60, clocked: false, replay: nil)
        #expect(budget.finalDeadline == nil && budget.searchDeadline(reserve: 10) == nil)
        #expect(budget.trialDeadline(before: nil, share: 0.3, ownRefit: (2, 1)) == nil)
        #expect(budget.mayStartTrial(before: nil, first: false))
        #expect(budget.fits(1e9) && !budget.isPastFinal && budget.allowsAttributions)
        for step in [Budget.Step.seedBag, .stack, .refitFull] { #expect(budget.allows(step, cost: 1e9)) }
        #expect(budget.importanceRows(10_000, passes: 30, secondsPerPass: 100) == 10_000)
        #expect(budget.screenDeadline(share: 0.15, from: .now) == nil)
    }

    @Test func aReplayAnswersFromItsRecordWhateverTheCost() {
        var record = ReplaySchedule(trialCount: 5, stoppedTrials: [], ensembleSkipped: false, stackSkipped: true,
                                    seedBagged: true, refitCutShort: false, refittedOnAllRows: false)
        var budget = Budget(seconds: 60, clocked: false, replay: record)
        #expect(budget.allows(.seedBag, cost: 1e9))
        #expect(!budget.allows(.stack, cost: 0))
        #expect(!budget.allows(.refitFull, cost: 0))
        #expect(budget.ensembleSeconds(refitFull: true) == .infinity)
        (record.seedBagged, record.stackSkipped, record.refittedOnAllRows) = (nil, nil, true)
        budget = Budget(seconds: 60, clocked: false, replay: record)
        // Records from before seed bagging and stacking had neither.
        #expect(!budget.allows(.seedBag, cost: 0) && budget.allows(.stack, cost: 1e9) && budget.allows(.refitFull, cost: 1e9))
    }

    @Test func aReplaysEnsemblePlanTrialsAndFoldModelComeFromItsRecord() {
        var record = ReplaySchedule(trialCount: 6, stoppedTrials: [4, 6], ensembleSkipped: false, refitCutShort: false, refittedOnAllRows: true)
        record.ensemblePicks = [2, 5, 2]
        record.shippedFoldModel = true
        var budget = Budget(seconds: 60, clocked: false, replay: record)
        #expect(budget.runs(trial: 3) && !budget.runs(trial: 4) && !budget.runs(trial: 6))
        #expect(budget.replayShipsFoldModel && !budget.isClocked)
        #expect(budget.ensemblePlan(refitFull: true) == .picks([2, 5, 2]))
        record.ensemblePicks = []
        #expect(Budget(seconds: 60, clocked: false, replay: record).ensemblePlan(refitFull: false) == .none)
        (record.ensemblePicks, record.ensembleMembers) = (nil, [1, 3])
        #expect(Budget(seconds: 60, clocked: false, replay: record).ensemblePlan(refitFull: false) == .among([1, 3]))
        record.ensembleSkipped = true
        #expect(Budget(seconds: 60, clocked: false, replay: record).ensemblePlan(refitFull: false) == .none)
        // Without a record: selection, unlimited without a clock, within the time left under one.
        budget = Budget(seconds: 60, clocked: false, replay: nil)
        #expect(budget.ensemblePlan(refitFull: true) == .select(seconds: .infinity) && budget.runs(trial: 1) && !budget.replayShipsFoldModel)
        #expect(budget.allowsEnsembles(afterCutShort: false) && !budget.allowsEnsembles(afterCutShort: true))
        let clocked = clocked(finalIn: 10)
        guard case .select(let seconds) = clocked.ensemblePlan(refitFull: false) else { Issue.record("no selection under a clock"); return }
        #expect(seconds <= 10 && seconds > 9 && clocked.isClocked)
        #expect(!self.clocked(finalIn: -1).allowsEnsembles(afterCutShort: false), "past the final deadline, no ensembles")
    }

    @Test func underAClockAStepRunsOnlyWhenItsCostFitsBeforeTheModelMustBeFinal() {
        let budget = clocked(finalIn: 10)
        #expect(budget.fits(5) && !budget.fits(15))
        #expect(budget.allows(.refitFull, cost: 5) && !budget.allows(.seedBag, cost: 15))
        #expect(budget.secondsLeft > 9 && budget.secondsLeft <= 10 && budget.ensembleSeconds(refitFull: false) <= 10)
        #expect(budget.ensembleSeconds(refitFull: true) < 10 / 1.15 + 1e-9, "a plan that a refit on all rows follows keeps a margin")
        // A trial may start with 2% of the budget (1.2 s) left before the search deadline, not with less.
        #expect(budget.mayStartTrial(before: .now + .seconds(2), first: false))
        #expect(!budget.mayStartTrial(before: .now + .seconds(1), first: false))
        #expect(budget.mayStartTrial(before: .now, first: true), "the first trial always starts")
        // Importance: 30 passes of a second each with 4 s (40% of 10) to spend measure on about 4/30 of the rows.
        let rows = budget.importanceRows(10_000, passes: 30, secondsPerPass: 1)
        #expect(rows > 1_200 && rows < 1_340, "\(rows)")
        #expect(budget.importanceRows(300, passes: 30, secondsPerPass: 100) == 200, "never fewer than 200 rows")
        #expect(budget.allowsAttributions, "6 s (10% of 60) fit in the 10 s left")
        #expect(!clocked(finalIn: 5).allowsAttributions)
        let screen = budget.screenDeadline(share: 0.1, from: .now)!
        #expect((screen - .now).seconds <= 6 && (screen - .now).seconds > 5.9)
        #expect(clocked(finalIn: 2).screenDeadline(share: 0.1, from: .now)! <= .now + .seconds(2), "never past the final deadline")
    }

    @Test func theFinalDeadlineKeepsTheTailOfScoringAndWritingTheModel() throws {
        var budget = Budget(seconds: 100, clocked: true, replay: nil)
        let end = try #require(budget.end)
        // Nothing measured: the least tail, 2% of the budget.
        #expect(abs((end - budget.finalDeadline!).seconds - 2) < 1e-9)
        budget.holdoutRows = 1_000_000
        budget.settleFinalDeadline(values: 0, predictMillisecondsPer1000: 5)
        // Scoring a million rows twice at 5 ms per thousand: 10 s, with 15% more (and any slowdown).
        #expect((end - budget.finalDeadline!).seconds >= 11.5 - 1e-9)
    }
}

/// The search's state stays small enough to read: its rows, its decisions and its clock are values of their
/// own, not thirty loose properties mutated from four files.
struct SearchRunShapeTests {
    @Test func theSearchKeepsAtMostFifteenStoredProperties() throws {
        let frame = try CSVFixtures.read(CustomerChurnFixture.sample(rows: 200))
        let schema = try SchemaInference.infer(frame, target: "churned").schema
        var settings = SearchSettings()
        settings.trials = 1
        let run = try SearchRun(frame: frame, schema: schema, settings: settings) { _ in }
        let stored = Mirror(reflecting: run).children.compactMap(\.label)
        #expect(stored.count <= 15, "\(stored.count) stored properties: \(stored)")
    }
}
