import Foundation
import KeelData
import KeelLearn

/// One search, step by step: prepare the data and validation, run trials, choose and refit, then score the
/// holdout and write the report. `Search.run` drives the steps; the state they share lives here.
struct SearchRun {
    let settings: SearchSettings
    /// The clock, every share of the budget, and what the clock (or the replay record) decides.
    var budget: Budget
    /// The rows, target, weights and validation plan, as read once when the search began.
    let data: SearchData
    /// The data's schema, less the columns the column screen dropped.
    var schema: Schema
    var constraints: [Int]
    /// The families this search may use: the registered ones the user asked for that can honour the
    /// constraints.
    let families: [any LearnerFamily]
    var evaluator: TrialEvaluator
    /// How every pipeline of the run is fitted (the value screen may turn on `levelValues`).
    var pipelineOptions: PipelineOptions
    var warnings: [String] = []
    var trials: [TrialResult] = []
    var outOfFold: [Int: [Double]] = [:]
    /// The memory budget, what the folds take, and the largest trial estimate so far.
    var memory: MemoryUse
    /// What the screens and the clock decided, which a replay must decide the same way.
    var decisions = SearchDecisions()
    /// The leader's first-fold model: complete, validated, and what ships when its refit cannot finish.
    var leaderFoldModel: (trial: Int, model: FittedModel)?
    /// The shipped model's outputs on the holdout, when the holdout scored the model that ships (no refit
    /// on all rows): the monitoring profile reuses them rather than predicting again.
    var holdoutOutputs: [Double]?

    /// What `choose` decided: the model fitted on the search part, and what `finish` needs to refit it.
    struct Choice {
        var pipeline: Pipeline
        var model: FittedModel
        var best: TrialResult?
        var ensemble: SearchReport.EnsembleSummary?
        var shipped: [(learner: Learner, weight: Double)]
        /// Seconds each shipped member took to fit on the search rows: members differ tenfold in cost, and
        /// what a step adds or refits again is sized by its own members.
        var memberSeconds: [Double]
        /// Seconds the shipped members took to fit on the search rows, all of them.
        var refitSeconds: Double { memberSeconds.reduce(0, +) }
        /// Seconds to serialise the chosen model (measured): large boosted models take seconds to write, and
        /// the budget runs until the artefact is on disk.
        var writeSeconds = 0.0
        /// `writeSeconds` per stored number of the model it was measured on, to size other models' writes.
        var writeSecondsPerValue = 0.0

        /// The expected time to write `model` (encode, checksum, write: about twice the encoding).
        func writeEstimate(_ model: FittedModel) -> Double { writeSecondsPerValue * Double(model.storedValues) * 2 }
    }

    init(frame: Frame, schema: Schema, settings: SearchSettings, progress: (SearchEvent) -> Void) throws {
        self.settings = settings
        // A replay takes the clock's decisions from its record, never from a clock.
        budget = Budget(seconds: settings.timeBudget, clocked: settings.trials == nil && settings.replay == nil, replay: settings.replay)
        budget.writesAfterSearch = settings.writesAfterSearch
        var warnings: [String] = []
        var data = try SearchData(frame: frame, schema: schema, settings: settings, warnings: &warnings)
        // A replay's screens decide first, from its record, so its folds are built once, on the columns it uses;
        // a search's screens probe on folds of their own and hand over the ones they decide on.
        let recorded = settings.replay.map { RecordedScreens($0, schema: schema, screenColumns: settings.screenColumns) }
        var options = Search.options(settings.seed)
        options.levelValues = recorded?.levelValues ?? false
        let screened = recorded?.schema ?? schema
        let folds: [FoldData]
        (folds, data.plan, memory) = try Self.folds(data, schema: screened, options: options, memory: settings.memory ?? .standard,
                                                    splits: settings.replay?.validationSplits,
                                                    checkedOn: recorded == nil ? nil : (schema, Search.options(settings.seed)), warnings: &warnings)
        // The model's schema is the data's less what inference found of personal data: a dataset's stored
        // schema (which a replay starts from) may be from before detection, and the model would differ.
        (self.data, self.schema, pipelineOptions) = (data, screened.withoutPersonalDataFindings, options)
        budget.holdoutRows = data.plan.holdout.validation.count
        progress(.plan("validation: \(data.plan.description); \(data.plan.holdout.validation.count) rows held out"))
        constraints = try Search.monotoneConstraints(settings.monotone, schema: screened, featureNames: folds[0].featureNames)
        families = Self.families(settings, warnings: &warnings)
        for rule in SearchRule.allCases where settings.rulesOff.contains(rule) {
            warnings.append("search rule '\(rule.rawValue)' turned off (a benchmark's switch)")
        }
        if let recorded { (decisions, warnings) = (recorded.decisions, warnings + recorded.warnings) }
        self.warnings = warnings
        evaluator = TrialEvaluator(folds: folds, metric: data.metric, classCount: data.y.classCount, task: data.task.kind,
                                   searchRows: data.searchFrame.rowCount, coverFolds: data.plan.coverFolds)
    }

    /// The folds of `data`'s plan, built one at a time so the first one's size can veto the rest: with too
    /// little memory for every fold, the search validates on one split instead of dying of out-of-memory.
    /// A replay takes the number of splits from its record (`splits`); one from before it was recorded checks
    /// as its run did, on a first fold of the columns and options the run started with (`checkedOn`).
    private static func folds(_ data: SearchData, schema: Schema, options: PipelineOptions, memory budget: MemoryBudget, splits: Int?,
                              checkedOn start: (schema: Schema, options: PipelineOptions)?, warnings: inout [String]) throws -> ([FoldData], ValidationPlan, MemoryUse) {
        var plan = data.plan
        var folds = [try data.fold(plan.folds[0], schema: schema, options: options)]
        let checked = if let start, splits == nil {
            MemoryBudget.foldBytes(try data.fold(plan.folds[0], schema: start.schema, options: start.options))
        } else {
            MemoryBudget.foldBytes(folds[0])
        }
        // A replay with a recorded split count passed this check when it ran, on the columns it started with.
        if splits == nil, checked > budget.bytes / 2 {
            throw SearchError.invalidInput("validating even one split needs about \(MemoryBudget.megabytes(checked)) of features, over half of the memory budget (\(MemoryBudget.megabytes(budget.bytes)), --max-memory); sample the rows, drop columns, or raise the budget")
        }
        if plan.folds.count > 1, splits.map({ $0 < plan.folds.count }) ?? (checked * plan.folds.count > budget.bytes / 2) {
            warnings.append("\(plan.folds.count) folds would hold about \(MemoryBudget.megabytes(checked * plan.folds.count)) of features, over half of the memory budget (\(MemoryBudget.megabytes(budget.bytes))): validating on one split of them instead")
            plan = ValidationPlan(holdout: plan.holdout, folds: [plan.folds[0]], description: plan.description + ", reduced to its first split by the memory budget")
        }
        for fold in plan.folds.dropFirst() {
            folds.append(try data.fold(fold, schema: schema, options: options))
        }
        return (folds, plan, MemoryUse(budget: budget.bytes, folds: MemoryBudget.foldBytes(folds[0]) * folds.count, largestTrial: 0))
    }

    /// The registered families the user asked for that can honour the monotonic constraints (the others said).
    private static func families(_ settings: SearchSettings, warnings: inout [String]) -> [any LearnerFamily] {
        var families = settings.families.filter { settings.learners?.contains($0.name) ?? true }
        if !settings.monotone.isEmpty {
            let unable = families.filter { !$0.acceptsMonotoneConstraints }.map(\.name)
            if !unable.isEmpty {
                families.removeAll { !$0.acceptsMonotoneConstraints }
                warnings.append("\(unable.sorted().joined(separator: " and ")) left out: they cannot honour monotonic constraints")
            }
        }
        return families
    }

    /// The portfolio first, then seeded variations of the best boosting configuration, until the trial
    /// count, the search deadline (which keeps a reserve for the refit) or a stop request ends the search.
    /// When it ends by converging, the portfolio entries pruned on the way get every fold (`completePruned`).
    mutating func runTrials(progress: (SearchEvent) -> Void) {
        let portfolio = Portfolio.initial(shape: shape, families: families, seeds: settings.seeds)
        var first = portfolio.first.compactMap { settings.fixed.apply($0).constrained(constraints) }
        var later = portfolio.later.compactMap { settings.fixed.apply($0).constrained(constraints) }
        var generator = settings.seeds.generator("local-search")
        var variationsSinceLater = 0
        var portfolioTrials: [Int] = []
        while true {
            if let limit = settings.trials, trials.count >= limit { break }
            if first.isEmpty, later.isEmpty, let best = leader(trials.filter { $0.status == .completed }),
               trials.count - best.id >= Self.patience {
                warnings.append("the search converged: no better configuration in the \(Self.patience) trials after trial \(best.id); stopped after \(trials.count) trials")
                if !settings.rulesOff.contains(.completePruned) { completePruned(portfolioTrials, progress: progress) }
                break
            }
            guard canStartTrial(progress: progress) else { break }
            // After the cheap portfolio, variations of the best boosting configuration alternate with the
            // costly portfolio entries (two variations, then one entry), so neither starves the other.
            let variation = Search.bestToVary(trials, families: families, metric: data.metric)
            // Costly entries get half the usual share of the budget: they are the ones likely to need it all.
            let candidate: Portfolio.Candidate
            var share = Budget.trialShare
            if !first.isEmpty {
                candidate = first.removeFirst()
                portfolioTrials.append(trials.count + 1)
            } else if !later.isEmpty, variationsSinceLater >= 2 || variation == nil {
                candidate = later.removeFirst()
                portfolioTrials.append(trials.count + 1)
                variationsSinceLater = 0
                share = Budget.costlyTrialShare
            } else if let base = variation, let varied = Portfolio.variation(of: base, &generator),
                      let next = settings.fixed.apply(varied).constrained(constraints) {
                candidate = next
                variationsSinceLater += 1
            } else if !later.isEmpty {
                candidate = later.removeFirst()
                portfolioTrials.append(trials.count + 1)
                share = Budget.costlyTrialShare
            } else {
                break
            }
            // With --prefer-interpretable, glassbox trials run on every fold: the choice compares them with the best.
            let prunable = settings.preferInterpretable == nil || !candidate.learner.family.isInterpretable
            runTrial(candidate, share: share, pruning: prunable, progress: progress)
        }
    }

    /// After convergence, with time left: the portfolio entries pruned behind the leader run again on every
    /// fold, as new trials, so ensemble selection has their out-of-fold predictions. A model clearly worse
    /// alone can still help a blend at a small weight when it errs differently, and these are the diverse,
    /// known-good ones; variations are near-copies of one boosting configuration and stay pruned. Small data
    /// converges in seconds, so this costs little.
    private mutating func completePruned(_ portfolioTrials: [Int], progress: (SearchEvent) -> Void) {
        let pruned = portfolioTrials.compactMap { id in trials.first { $0.id == id && $0.status == .pruned } }
        for trial in pruned {
            if let limit = settings.trials, trials.count >= limit { return }
            guard canStartTrial(progress: progress) else { return }
            let candidate = Portfolio.Candidate(family: trial.family, summary: trial.summary, learner: trial.learner,
                                                seedPurpose: trial.seedPurpose ?? "portfolio")
            runTrial(candidate, share: Budget.trialShare, pruning: false, progress: progress, completes: trial.id)
        }
    }

    /// The search deadline: the final one less the reserve for refitting the choice, both at the current
    /// pace (the trials' fit times were measured at an earlier one).
    private mutating func searchDeadline() -> ContinuousClock.Instant? {
        guard budget.isClocked else { return nil }
        let leader = leader(trials.filter { $0.status == .completed })
        budget.settleFinalDeadline(values: leader?.storedValues ?? 0, predictMillisecondsPer1000: leader?.predictMillisecondsPer1000 ?? 0)
        let reserve = Budget.refitReserve(trials, metric: data.metric, budget: settings.timeBudget, refitFull: settings.refitFull,
                                          rowsRatio: refitRowsRatio, slowdown: budget.slowdown(threads: Parallel.coreCount))
        return budget.searchDeadline(reserve: reserve)
    }

    /// How many times the rows a trial's fit saw a refit on the search rows sees: a fold's training rows,
    /// less the tenth boosting keeps back to stop early on.
    var refitRowsRatio: Double {
        Double(data.searchFrame.rowCount) / (0.9 * Double(max(evaluator.folds[0].train.rowCount, 1)))
    }

    /// Whether another trial may start: no stop request, and a useful slice of time left before the search
    /// deadline.
    private mutating func canStartTrial(progress: (SearchEvent) -> Void) -> Bool {
        if settings.stop?.isRequested == true {
            warnings.append("the search was stopped early on request after \(trials.count) trials")
            progress(.stopping(reason: "stop requested"))
            return false
        }
        return budget.mayStartTrial(before: searchDeadline(), first: trials.isEmpty)
    }

    /// Evaluates one candidate within its share of the budget and the memory budget, and records it.
    private mutating func runTrial(_ candidate: Portfolio.Candidate, share: Double, pruning: Bool, progress: (SearchEvent) -> Void,
                                   completes: Int? = nil) {
        let id = trials.count + 1
        progress(.trialStarted(id: id, family: candidate.family, summary: candidate.summary))
        if !budget.runs(trial: id) {
            trials.append(TrialResult(id: id, family: candidate.family, summary: candidate.summary, learner: candidate.learner,
                                      foldScores: [], mean: .nan, std: .nan, fitSeconds: 0, predictMillisecondsPer1000: 0, bestRounds: [],
                                      status: .stopped, message: "stopped at the search deadline (replayed)"))
            return
        }
        // Sized for the refit on every search row, the largest fit the trial may lead to.
        let need = candidate.learner.family.memoryEstimate(candidate.learner, shape: shape)
        if memory.folds + need > memory.budget {
            trials.append(TrialResult(id: id, family: candidate.family, summary: candidate.summary, learner: candidate.learner,
                                      foldScores: [], mean: .nan, std: .nan, fitSeconds: 0, predictMillisecondsPer1000: 0, bestRounds: [],
                                      status: .failed, message: "left out: would need about \(MemoryBudget.megabytes(need)) beside the folds' \(MemoryBudget.megabytes(memory.folds)), over the memory budget of \(MemoryBudget.megabytes(memory.budget)) (--max-memory)"))
            progress(.trialFinished(trials[trials.count - 1], best: leader(trials.filter { $0.status == .completed }), elapsed: budget.elapsed))
            return
        }
        // Two folds at once when there are cores for it and two fits fit in memory beside the folds.
        evaluator.parallelFolds = Parallel.coreCount > 1 && evaluator.folds.count > 1 && memory.folds + 2 * need <= memory.budget ? 2 : 1
        memory.largestTrial = max(memory.largestTrial, need * evaluator.parallelFolds)
        // No trial may take more than a share of the budget, and once a model leads, none may run into the
        // time its own refit would need.
        let leading = leader(trials.filter { $0.status == .completed })
        let batches = (evaluator.folds.count + evaluator.parallelFolds - 1) / evaluator.parallelFolds
        let limit = budget.trialDeadline(before: searchDeadline(), share: share, ownRefit: leading == nil ? nil
            : (Budget.ownRefitPerFoldFit(rowsRatio: refitRowsRatio, fullRefitScale: settings.refitFull ? fullRefitScale : nil), batches))
        let evaluation = evaluator.evaluate(candidate.trial(id, pruneAgainst: pruning ? leading : nil), deadline: limit?.deadline,
                                            measureEncoding: budget.encodeSecondsPerValue == nil)
        if let encodeSeconds = evaluation.encodeSeconds, let values = evaluation.result.storedValues {
            budget.measuredEncoding(seconds: encodeSeconds, values: values)
        }
        let margins = evaluation.outOfFold
        var result = evaluation.result
        if result.status == .stopped, let limit {
            switch limit.limit {
            case .share: result.message = "stopped at its share of the budget (\(Int(share * 100))%, \(Search.format(settings.timeBudget * share)) s)"
            case .ownRefit: result.message = "stopped where its own refit\(settings.refitFull ? " (on the search rows, then all rows: --refit-full)" : "") would no longer fit in the time left"
            case .searchDeadline: break
            }
        }
        result.completes = completes
        trials.append(result)
        if let margins { outOfFold[result.id] = margins }
        if result.status == .completed, let model = evaluation.firstFoldModel, leader(trials.filter { $0.status == .completed })?.id == result.id {
            leaderFoldModel = (result.id, model)
        }
        progress(.trialFinished(result, best: leader(trials.filter { $0.status == .completed }), elapsed: budget.elapsed))
    }

    /// The search rows as the families see them: rows, features after preprocessing, task and outputs.
    var shape: DataShape {
        DataShape(rows: data.searchFrame.rowCount, features: evaluator.featureCount, task: data.task.kind, outputs: evaluator.outputs)
    }

    /// Trials without a new leader after which the search ends: past that point, more variations mostly
    /// find configurations that look better by chance on the same folds.
    static let patience = 60

    func leader(_ completed: [TrialResult]) -> TrialResult? {
        completed.min { a, b in data.metric.higherIsBetter ? a.mean > b.mean : a.mean < b.mean }
    }

}
