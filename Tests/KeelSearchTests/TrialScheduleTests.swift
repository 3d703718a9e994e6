import Foundation
import KeelData
import KeelLearn
@testable import KeelSearch
import KeelTestSupport
import Testing

/// How the search spends its time: folds two at a time, pruning trials that are clearly behind, the
/// portfolio's order, and the cap on one trial's share of the budget.
@Suite(.serialized) struct TrialScheduleTests {
    private func evaluator(rows: Int = 1500) throws -> TrialEvaluator {
        let frame = try CSVFixtures.read(CustomerChurnFixture.sample(rows: rows))
        let schema = try SchemaInference.infer(frame, target: "churned").schema
        let y = try TargetEncoding(column: frame["churned"]!, task: schema.task!)
        let plan = try ValidationPlan.make(frame: frame, schema: schema, target: y, settings: SearchSettings())
        let search = frame.selecting(rows: plan.holdout.train)
        let searchY = TargetEncoding(task: y.task, values: plan.holdout.train.map { y.values[$0] })
        let folds = try plan.folds.map { try FoldData(search, schema: schema, target: searchY, weights: nil, fold: $0, options: Search.options(1)) }
        return TrialEvaluator(folds: folds, metric: .rocAUC, classCount: 2, task: .binary, searchRows: search.rowCount, coverFolds: plan.coverFolds)
    }

    /// Fold-level parallelism must not change a single bit: every fold is fitted exactly as it would be alone.
    @Test func foldsTwoAtATimeScoreExactlyAsOneAtATime() throws {
        var sequential = try evaluator()
        var parallel = sequential
        sequential.parallelFolds = 1
        parallel.parallelFolds = 2
        var boosting = GradientBoostingParameters()
        boosting.rounds = 60
        boosting.rowSubsample = 0.8
        boosting.earlyStoppingRounds = 10
        var forest = ForestParameters()
        forest.trees = 20
        for learner in [Learner.gradientBoosting(boosting), .randomForest(forest), .linear(LinearParameters())] {
            let trial = TrialSpec.Trial(id: 1, family: "x", summary: "", learner: learner, seedPurpose: "test")
            let (a, marginsA) = { let e = sequential.evaluate(trial, deadline: nil); return (e.result, e.outOfFold) }()
            let (b, marginsB) = { let e = parallel.evaluate(trial, deadline: nil); return (e.result, e.outOfFold) }()
            #expect(a.status == .completed && b.status == .completed)
            #expect(a.foldScores == b.foldScores && a.foldScores.count == sequential.folds.count)
            #expect(a.bestRounds == b.bestRounds)
            let (ma, mb) = (try #require(marginsA), try #require(marginsB))
            #expect(ma.count == mb.count && zip(ma, mb).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) })
        }
    }

    @Test func pruningComparesWithTheLeaderOnTheSameFolds() throws {
        let evaluator = try evaluator(rows: 600)
        var leader = TrialResult(id: 4, family: "gbdt", summary: "", learner: .linear(LinearParameters()), foldScores: [0.80, 0.90, 0.85, 0.85, 0.85],
                                 mean: 0.85, std: 0.004, fitSeconds: 0, predictMillisecondsPer1000: 0, bestRounds: [], status: .completed)
        // Errors (1 − AUC) on the first two folds: the leader's 0.15; 3% more is 0.1545.
        #expect(evaluator.pruning([0.845, 0.85], leader: leader) == nil, "error 0.1525 against 0.15: within 3%")
        #expect(evaluator.pruning([0.84, 0.85], leader: leader) != nil, "error 0.155 against 0.15: 3.3% worse")
        #expect(evaluator.pruning([0.85, 0.85], leader: leader) == nil, "as good as the leader")
        let verdict = try #require(evaluator.pruning([0.80, 0.82], leader: leader))
        #expect(verdict.contains("pruned after 2 of \(evaluator.folds.count) folds") && verdict.contains("trial 4"))
        #expect(evaluator.pruning([0.60], leader: leader) == nil, "one fold is too little to judge")
        // Noisy folds widen the allowance to half the leader's standard error over the folds seen.
        leader.std = 0.06
        #expect(evaluator.pruning([0.83, 0.84], leader: leader) == nil, "0.015 behind, within 0.5 × 0.06 / √2 = 0.021")
        #expect(evaluator.pruning([0.80, 0.82], leader: leader) != nil, "0.04 behind")
        leader.std = 0
        #expect(evaluator.pruning([0.60, 0.60], leader: nil) == nil)
        // A loss metric: lower is better, the error is the loss itself.
        let losses = TrialEvaluator(folds: evaluator.folds, metric: .logLoss, classCount: 2, task: .binary, searchRows: evaluator.searchRows,
                                    coverFolds: evaluator.coverFolds)
        leader.foldScores = [0.40, 0.40, 0.40, 0.40, 0.40]
        #expect(losses.pruning([0.41, 0.41], leader: leader) == nil)
        #expect(losses.pruning([0.42, 0.42], leader: leader) != nil)
    }

    /// A search with a fixed trial count prunes deterministically, keeps the pruned trials' partial scores,
    /// never ranks them, and a pruned trial really was behind the leader of its time on the folds it saw.
    @Test func prunedTrialsAreReportedButNotRanked() throws {
        let frame = try CSVFixtures.read(CustomerChurnFixture.sample(rows: 3000))
        let schema = try SchemaInference.infer(frame, target: "churned").schema
        var settings = SearchSettings()
        settings.trials = 14
        let (_, report) = try Search.run(frame: frame, schema: schema, settings: settings)
        let (_, again) = try Search.run(frame: frame, schema: schema, settings: settings)
        #expect(report.trials.map(\.status) == again.trials.map(\.status))
        let pruned = report.trials.filter { $0.status == .pruned }
        #expect(!pruned.isEmpty, "\(report.trials.map { ($0.family, $0.mean) })")
        for trial in pruned {
            #expect(trial.foldScores.count >= 2 && trial.foldScores.count < 5 && trial.foldScores.count % 2 == 0)
            #expect(!report.leaderboard.contains { $0.id == trial.id })
            let earlier = report.trials.prefix { $0.id < trial.id }.filter { $0.status == .completed }
            let leader = try #require(earlier.max { $0.mean < $1.mean })
            let k = trial.foldScores.count
            #expect(trial.foldScores.reduce(0, +) / Double(k) < leader.foldScores.prefix(k).reduce(0, +) / Double(k))
        }
        #expect(report.unrankedSummary?.contains("\(pruned.count) pruned") == true)
    }

    @Test func costlyFamiliesMoveBehindTheBoostingOnLargeOrManyClassData() {
        let all = Set(SearchSettings.learnerFamilies)
        let small = Portfolio.initial(rows: 2_000, features: 10, task: .binary, outputs: 1, families: all)
        #expect(small.later.isEmpty && small.first.contains { $0.family == "linear" } && small.first.contains { $0.family == "ebm" })
        #expect(!small.first.contains { $0.summary.contains("127 leaves") })
        let large = Portfolio.initial(rows: 120_000, features: 10, task: .binary, outputs: 1, families: all)
        // Costly: linear models, EBMs, and boosting that first fits a linear model.
        #expect(large.later.allSatisfy { $0.family == "linear" || $0.family == "ebm" || $0.summary.hasSuffix("on a ridge base") }
                && large.later.contains { $0.family == "linear" } && large.later.contains { $0.summary.hasSuffix("on a ridge base") })
        #expect(large.first.prefix(3).contains { $0.summary.contains("127 leaves") }, "the high-capacity configuration runs early")
        #expect(large.first.contains { $0.summary.hasSuffix("100 rounds") }, "LightGBM's defaults are always tried")
        let classes = Portfolio.initial(rows: 9_000, features: 16, task: .multiclass, outputs: 26, families: all)
        #expect(Set(classes.later.map(\.family)) == ["linear", "ebm"])
        let chosen = Portfolio.initial(rows: 120_000, features: 10, task: .binary, outputs: 1, families: ["linear"])
        #expect(chosen.first.isEmpty && chosen.later.count == 3, "a user who asks for linear models still gets all of them")
    }

    /// One slow configuration may take at most 30% of the budget, then the search moves on.
    @Test(.timeLimit(.minutes(1))) func oneTrialTakesAtMostItsShareOfTheBudget() throws {
        let (frame, schema) = try Datasets.sample("letter_recognition", rows: 8000)
        var settings = SearchSettings()
        settings.timeBudget = 10
        settings.learners = ["linear"]
        var started: [Int: ContinuousClock.Instant] = [:]
        var took: [Int: Double] = [:]
        let (_, report) = try Search.run(frame: frame, schema: schema, settings: settings) { event in
            switch event {
            case .trialStarted(let id, _, _): started[id] = .now
            case .trialFinished(let trial, _, _): took[trial.id] = (ContinuousClock.now - started[trial.id]!).seconds
            default: break
            }
        }
        let capped = report.trials.filter { $0.message?.contains("share of the budget") == true }
        #expect(!capped.isEmpty, "26-class multinomial models on 6,400 rows take far longer than 3 s: \(report.trials.map(\.message))")
        #expect(report.trials.count >= 2, "the search moved on after the capped trial")
        #expect(took.values.allSatisfy { $0 <= 10 * Budget.trialShare + 1 }, "\(took)")
    }
}

extension TrialScheduleTests {
    /// On small data the variations stop paying long before a generous budget ends: the search says it
    /// converged and returns early instead of fitting noise in the folds for the rest of the budget.
    /// Convergence counts trials, not seconds: the budget is far longer than the search needs even when the
    /// suite's other tests share the cores (CI once ran out of a 90 s budget two trials after a new leader).
    @Test(.timeLimit(.minutes(5))) func aConvergedSearchEndsBeforeItsBudget() throws {
        let frame = try CSVFixtures.read(CustomerChurnFixture.sample(rows: 400))
        let schema = try SchemaInference.infer(frame, target: "churned").schema
        var settings = SearchSettings()
        settings.timeBudget = 600
        let started = ContinuousClock.now
        let (_, report) = try Search.run(frame: frame, schema: schema, settings: settings)
        #expect((ContinuousClock.now - started).seconds < 240, "ended long before its budget")
        #expect(report.warnings.contains { $0.contains("the search converged") }, "\(report.warnings)")
        // The search proper ends `patience` trials after its leader; then pruned portfolio entries run again.
        let searched = report.trials.prefix { $0.completes == nil }
        let higher = report.metric.higherIsBetter
        let leader = try #require(searched.filter { $0.status == .completed }.min { higher ? $0.mean > $1.mean : $0.mean < $1.mean })
        #expect(searched.count - leader.id == SearchRun.patience)
        let reruns = report.trials.dropFirst(searched.count)
        #expect(!reruns.isEmpty, "some portfolio entry is pruned on this data: \(report.trials.map(\.status))")
        for rerun in reruns {
            let original = try #require(report.trials.first { $0.id == rerun.completes })
            #expect(original.status == .pruned && original.id < leader.id + SearchRun.patience && original.summary == rerun.summary)
            #expect(rerun.status == .completed && rerun.foldScores.count == 10, "every fold of the repeated 5-fold plan")
            #expect(Array(rerun.foldScores.prefix(original.foldScores.count)) == original.foldScores, "the same folds and seed, the same scores")
        }
        #expect(report.unrankedSummary?.contains("\(reruns.count) of which ran again on every fold") == true, "\(report.unrankedSummary ?? "")")
    }
}

extension TrialScheduleTests {
    /// Fold scores are as noisy as the rarest class is small, so a rare class gets repeated folds even when
    /// the table has more than 2,000 search rows.
    @Test func aRareClassGetsRepeatedFolds() throws {
        func plan(positives: Int, rulesOff: Set<SearchRule> = []) throws -> ValidationPlan {
            let n = 4000
            var g = SeededGenerator(seed: 9)
            let x = (0..<n).map { _ in g.nextUnit() }
            let codes = (0..<n).map { UInt32($0 % (n / positives) == 0 ? 1 : 0) }
            let frame = try Frame(columns: [Column(name: "x", values: .numeric(x)),
                                            Column(name: "y", values: .categorical(EncodedStrings(codes: codes, levels: ["no", "yes"])))])
            let schema = try SchemaInference.infer(frame, target: "y").schema
            let y = try TargetEncoding(column: frame["y"]!, task: schema.task!)
            var settings = SearchSettings()
            settings.rulesOff = rulesOff
            return try ValidationPlan.make(frame: frame, schema: schema, target: y, settings: settings)
        }
        let rare = try plan(positives: 200)
        #expect(rare.folds.count == 10 && rare.coverFolds == 5, "\(rare.description)")
        #expect(rare.description.contains("the rarest class has 160 of them"), "\(rare.description)")
        let common = try plan(positives: 1000)
        #expect(common.folds.count == 5 && !common.description.contains("repeated"), "\(common.description)")
        let off = try plan(positives: 200, rulesOff: [.rareClassRepeats])
        #expect(off.folds.count == 5 && !off.description.contains("repeated"), "a benchmark's switch turns the rule off: \(off.description)")
    }

    /// Data costly for its budget (rows × features × classes) validates one step cheaper, so that trials are
    /// not so few that the best configuration never runs; a larger budget restores the usual folds.
    @Test func costlyDataForItsBudgetValidatesOneStepCheaper() throws {
        func plan(rows: Int, classes: Int, budget: Double, rulesOff: Set<SearchRule> = []) throws -> ValidationPlan {
            var g = SeededGenerator(seed: 4)
            var columns = (0..<20).map { j in Column(name: "x\(j)", values: .numeric((0..<rows).map { _ in g.nextUnit() })) }
            let codes = (0..<rows).map { UInt32($0 % classes) }
            columns.append(Column(name: "y", values: .categorical(EncodedStrings(codes: codes, levels: (0..<classes).map { "c\($0)" }))))
            let frame = try Frame(columns: columns)
            let schema = try SchemaInference.infer(frame, target: "y").schema
            let y = try TargetEncoding(column: frame["y"]!, task: schema.task!)
            var settings = SearchSettings()
            settings.timeBudget = budget
            settings.rulesOff = rulesOff
            return try ValidationPlan.make(frame: frame, schema: schema, target: y, settings: settings)
        }
        // 3,200 search rows × 20 features × 8 classes = 512,000: over a 10 s budget's 333,333, within 60 s's 2 million.
        let tight = try plan(rows: 4000, classes: 8, budget: 10)
        #expect(tight.folds.count == 1 && tight.description.hasPrefix("one stratified 80/20"), "\(tight.description)")
        #expect(tight.description.contains("cut one step for the budget: 3200 rows × 20 features × 8 classes"), "\(tight.description)")
        #expect(Set(tight.folds[0].train).isDisjoint(with: tight.folds[0].validation) && tight.folds[0].validation.count == 640)
        let ample = try plan(rows: 4000, classes: 8, budget: 60)
        #expect(ample.folds.count == 5 && !ample.description.contains("cut"), "\(ample.description)")
        // Small data keeps five folds but is not repeated (1,200 × 20 × 8 = 192,000, over a 5 s budget's 166,667).
        let small = try plan(rows: 1500, classes: 8, budget: 5)
        #expect(small.folds.count == 5 && small.coverFolds == 5 && !small.description.contains("repeated"), "\(small.description)")
        #expect(try plan(rows: 1500, classes: 8, budget: 60).folds.count == 10)
        // A benchmark weighing the rule turns it off (KEEL_SEARCH_RULES_OFF=affordable-folds): the usual folds.
        let off = try plan(rows: 4000, classes: 8, budget: 10, rulesOff: [.affordableFolds])
        #expect(off.folds.count == 5 && !off.description.contains("cut"), "\(off.description)")
    }

    /// The rules a benchmark may turn off are named; an unknown name is refused with the known ones.
    @Test func searchRulesAreParsedByName() throws {
        #expect(try SearchRule.parse(" complete-pruned,affordable-folds,rare-class-repeats") == [.completePruned, .affordableFolds, .rareClassRepeats])
        #expect(try SearchRule.parse("") == [])
        #expect {
            try SearchRule.parse("complete-pruned,faster")
        } throws: { "\($0)".contains("unknown search rule 'faster'") && "\($0)".contains("affordable-folds") }
    }
}
