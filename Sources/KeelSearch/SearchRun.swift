import Foundation
import KeelData
import KeelExplain
import KeelLearn

/// One search, step by step: prepare the data and validation, run trials, choose and refit, then score the
/// holdout and write the report. `Search.run` drives the steps; the state they share lives here.
struct SearchRun {
    let settings: SearchSettings
    let started = ContinuousClock.now
    /// When the whole budget runs out (nil with a fixed trial count).
    let end: ContinuousClock.Instant?
    /// When the shipped model must be final: the end less the time the steps after it take at the current
    /// pace (scoring the holdout, encoding and writing the artefact). Moved as the pace and the chosen
    /// model's size become known (`updateFinalDeadline`).
    var finalDeadline: ContinuousClock.Instant?
    /// How much slower the machine runs now than when the search began.
    var pace = Pace()
    /// Seconds to encode one stored value of a model, at the pace the search began, measured on the first
    /// sizeable model a trial fitted (nil until then: small models encode in no time).
    var encodeSecondsPerValue: Double?
    let frame: Frame
    /// The data's schema, less the columns the column screen dropped.
    var schema: Schema
    let task: LearningTask
    let metric: Metric
    let typed: Frame
    let y: TargetEncoding
    let weights: [Double]?
    let dropped: Int
    let plan: ValidationPlan
    let searchFrame: Frame
    let searchY: TargetEncoding
    let searchWeights: [Double]?
    var constraints: [Int]
    let families: Set<String>
    var evaluator: TrialEvaluator
    /// How every pipeline of the run is fitted (the value screen may turn on `levelValues`).
    var pipelineOptions: PipelineOptions
    var warnings: [String] = []
    var trials: [TrialResult] = []
    var outOfFold: [Int: [Double]] = [:]
    /// The memory budget, what the folds take, and the largest trial estimate so far.
    var memory: MemoryUse
    /// Clock-dependent decisions, recorded for `ReplaySchedule`.
    var ensembleSkipped = false
    /// Set when time limited the ensemble's members: the ones chosen, for a replay.
    var ensembleMembers: [Int]?
    /// Under a clock: the blend as selection picked it (empty: none), for a replay.
    var ensemblePicks: [Int]?
    /// The fallback ridge model (no trial completed) stopped at the deadline before converging.
    var baselineCutShort = false
    /// Whether the sampled boosting members were averaged over `seedBags` seeds.
    var seedBagged = false
    var stackSkipped = false
    var refitCutShort = false
    /// The leader's first-fold model: complete, validated, and what ships when its refit cannot finish.
    var leaderFoldModel: (trial: Int, model: FittedModel)?
    var shippedFoldModel = false
    /// Why the shipped model is not of the families the user asked for (nil when it is).
    var fallback: String?
    /// The column screen's verdicts, in the order it took them.
    var columnScreen: [ColumnScreen] = []
    var identifierScreen: [ColumnScreen] = []
    /// The value screen's verdict, when it ran.
    var valueScreen: ValueScreen?
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
        self.frame = frame
        self.schema = schema
        end = settings.trials == nil ? started + .seconds(settings.timeBudget) : nil
        finalDeadline = end.map { $0 - .seconds(settings.timeBudget * Self.minimumTailShare) }
        guard let targetName = schema.target, let task = schema.task else {
            throw SearchError.invalidInput("a search needs a target column (--target)")
        }
        self.task = task
        metric = settings.metric ?? Metric.defaultFor(task.kind)
        guard metric.isRegression == (task.kind == .regression) else {
            throw SearchError.invalidInput("metric \(metric.rawValue) does not fit a \(task.kind.rawValue) task")
        }
        var warnings: [String] = []
        let (data, dropped) = try Search.dropMissingTargets(frame, target: targetName, warnings: &warnings)
        self.dropped = dropped
        typed = try data.conforming(to: schema)
        let storage: ColumnKind = task.kind == .regression ? .numeric : .categorical
        let y = try TargetEncoding(column: typed[targetName]!.converted(to: storage), task: task)
        self.y = y
        var weights = try Search.weightColumn(typed, schema: schema)
        if settings.balanceClasses {
            guard task.kind != .regression else { throw SearchError.invalidInput("class weights need a classification task") }
            weights = ClassWeights.balanced(y, weights: weights)
        }
        self.weights = weights
        var plan = try ValidationPlan.make(frame: typed, schema: schema, target: y, settings: settings)
        let searchRows = plan.holdout.train
        let searchFrame = typed.selecting(rows: searchRows)
        let searchY = TargetEncoding(task: task, values: searchRows.map { y.values[$0] })
        let searchWeights = weights.map { w in searchRows.map { w[$0] } }
        (self.searchFrame, self.searchY, self.searchWeights) = (searchFrame, searchY, searchWeights)
        let options = Search.options(settings.seed)
        pipelineOptions = options
        // Folds are built one at a time so the first one's size can veto the rest: with too little memory for
        // every fold, the search validates on one split instead of dying of out-of-memory.
        let budget = settings.memory ?? .standard
        var folds = [try FoldData(searchFrame, schema: schema, target: searchY, weights: searchWeights, fold: plan.folds[0], options: options)]
        let perFold = MemoryBudget.foldBytes(folds[0])
        if perFold > budget.bytes / 2 {
            throw SearchError.invalidInput("validating even one split needs about \(MemoryBudget.megabytes(perFold)) of features, over half of the memory budget (\(MemoryBudget.megabytes(budget.bytes)), --max-memory); sample the rows, drop columns, or raise the budget")
        }
        if perFold * plan.folds.count > budget.bytes / 2 {
            warnings.append("\(plan.folds.count) folds would hold about \(MemoryBudget.megabytes(perFold * plan.folds.count)) of features, over half of the memory budget (\(MemoryBudget.megabytes(budget.bytes))): validating on one split of them instead")
            plan = ValidationPlan(holdout: plan.holdout, folds: [plan.folds[0]], description: plan.description + ", reduced to its first split by the memory budget")
        }
        for fold in plan.folds.dropFirst() {
            folds.append(try FoldData(searchFrame, schema: schema, target: searchY, weights: searchWeights, fold: fold, options: options))
        }
        memory = MemoryUse(budget: budget.bytes, folds: perFold * folds.count, largestTrial: 0)
        self.plan = plan
        progress(.plan("validation: \(plan.description); \(plan.holdout.validation.count) rows held out"))
        constraints = try Search.monotoneConstraints(settings.monotone, schema: schema, featureNames: folds[0].featureNames)
        var families = settings.learners ?? Set(SearchSettings.learnerFamilies)
        if !settings.monotone.isEmpty {
            let unable = families.intersection(["random_forest", "extra_trees"])
            if !unable.isEmpty {
                families.subtract(unable)
                warnings.append("\(unable.sorted().joined(separator: " and ")) left out: they cannot honour monotonic constraints")
            }
        }
        self.families = families
        self.warnings = warnings
        evaluator = TrialEvaluator(folds: folds, metric: metric, classCount: y.classCount, task: task.kind,
                                   searchRows: searchFrame.rowCount, coverFolds: plan.coverFolds)
    }

    /// The portfolio first, then seeded variations of the best boosting configuration, until the trial
    /// count, the search deadline (which keeps a reserve for the refit) or a stop request ends the search.
    /// When it ends by converging, the portfolio entries pruned on the way get every fold (`completePruned`).
    mutating func runTrials(progress: (SearchEvent) -> Void) {
        let portfolio = Portfolio.initial(rows: searchFrame.rowCount, features: evaluator.featureCount, task: task.kind,
                                          outputs: evaluator.outputs, families: families)
        var first = portfolio.first.compactMap { settings.fixed.apply($0).constrained(constraints) }
        var later = portfolio.later.compactMap { settings.fixed.apply($0).constrained(constraints) }
        var generator = SeededGenerator(seed: settings.seed &+ 17)
        var variationsSinceLater = 0
        var portfolioTrials: [Int] = []
        while true {
            if let limit = settings.trials, trials.count >= limit { break }
            if first.isEmpty, later.isEmpty, let best = leader(trials.filter { $0.status == .completed }),
               trials.count - best.id >= Self.patience {
                warnings.append("the search converged: no better configuration in the \(Self.patience) trials after trial \(best.id); stopped after \(trials.count) trials")
                completePruned(portfolioTrials, progress: progress)
                break
            }
            guard canStartTrial(progress: progress) else { break }
            // After the cheap portfolio, variations of the best boosting configuration alternate with the
            // costly portfolio entries (two variations, then one entry), so neither starves the other.
            let variation = families.contains("gbdt") ? Search.bestBoosting(trials, metric: metric) : nil
            // Costly entries get half the usual share of the budget: they are the ones likely to need it all.
            let candidate: Portfolio.Candidate
            var share = Self.trialShare
            if !first.isEmpty {
                candidate = first.removeFirst()
                portfolioTrials.append(trials.count + 1)
            } else if !later.isEmpty, variationsSinceLater >= 2 || variation == nil {
                candidate = later.removeFirst()
                portfolioTrials.append(trials.count + 1)
                variationsSinceLater = 0
                share /= 2
            } else if let base = variation, let next = settings.fixed.apply(Portfolio.perturb(base, &generator)).constrained(constraints) {
                candidate = next
                variationsSinceLater += 1
            } else if !later.isEmpty {
                candidate = later.removeFirst()
                portfolioTrials.append(trials.count + 1)
                share /= 2
            } else {
                break
            }
            runTrial(candidate, share: share, pruning: true, progress: progress)
        }
    }

    /// After convergence, with time left: the portfolio entries pruned behind the leader run again on every
    /// fold, as new trials, so ensemble selection has their out-of-fold predictions. A model clearly worse
    /// alone can still help a blend at a small weight when it errs differently (glass: extra trees 0.7232
    /// out of fold; with 0.14 of LightGBM's defaults, pruned at 1.00 and 0.99 in full, 0.7046; test log loss
    /// 0.526 → 0.448), and these are the diverse, known-good ones; variations are near-copies of one boosting
    /// configuration and stay pruned. Small data converges in seconds, so this costs little.
    private mutating func completePruned(_ portfolioTrials: [Int], progress: (SearchEvent) -> Void) {
        let pruned = portfolioTrials.compactMap { id in trials.first { $0.id == id && $0.status == .pruned } }
        for trial in pruned {
            if let limit = settings.trials, trials.count >= limit { return }
            guard canStartTrial(progress: progress) else { return }
            let candidate = Portfolio.Candidate(family: trial.family, summary: trial.summary, learner: trial.learner)
            runTrial(candidate, share: Self.trialShare, pruning: false, progress: progress, completes: trial.id)
        }
    }

    /// The search deadline: the final one less the reserve for refitting the choice, both at the current
    /// pace (the trials' fit times were measured at an earlier one).
    private mutating func searchDeadline() -> ContinuousClock.Instant? {
        guard end != nil else { return nil }
        let leader = leader(trials.filter { $0.status == .completed })
        updateFinalDeadline(values: leader?.storedValues ?? 0, predictMillisecondsPer1000: leader?.predictMillisecondsPer1000 ?? 0)
        let reserve = Search.refitReserve(trials, metric: metric, budget: settings.timeBudget, refitFull: settings.refitFull,
                                          rowsRatio: refitRowsRatio, slowdown: pace.slowdown(threads: Parallel.coreCount))
        return finalDeadline.map { $0 - .seconds(reserve) }
    }

    /// How many times the rows a trial's fit saw a refit on the search rows sees: a fold's training rows,
    /// less the tenth boosting keeps back to stop early on.
    var refitRowsRatio: Double {
        Double(searchFrame.rowCount) / (0.9 * Double(max(evaluator.folds[0].train.rowCount, 1)))
    }

    /// The least share of the budget kept for the steps after the model is final.
    static let minimumTailShare = 0.02

    /// Seconds, at the pace the search began, of the steps after the model is final: encoding it once to
    /// measure the write, scoring the holdout twice (its score, then the monitoring profile's predictions),
    /// and the caller's writes (each an encoding, a checksum and a write: about twice the encoding).
    func tailSeconds(values: Int, predictMillisecondsPer1000: Double) -> Double {
        let encode = Double(values) * (encodeSecondsPerValue ?? 0)
        let scoring = predictMillisecondsPer1000 / 1e6 * Double(plan.holdout.validation.count)
        return encode * Double(1 + 2 * settings.writesAfterSearch) + scoring * 2
    }

    /// Sets the final deadline from the tail a model of `values` stored values predicting at that cost
    /// takes at the current pace (mostly one thread), with 15% more.
    mutating func updateFinalDeadline(values: Int, predictMillisecondsPer1000: Double, fresh: Bool = false) {
        guard let end else { return }
        let tail = tailSeconds(values: values, predictMillisecondsPer1000: predictMillisecondsPer1000) * pace.slowdown(fresh: fresh) * 1.15
        finalDeadline = end - .seconds(max(settings.timeBudget * Self.minimumTailShare, tail))
    }

    /// Whether another trial may start: no stop request, and a useful slice of time left before the search
    /// deadline (every learner stops at the deadline, so a trial may start whenever that much is left).
    private mutating func canStartTrial(progress: (SearchEvent) -> Void) -> Bool {
        if settings.stop?.isRequested == true {
            warnings.append("the search was stopped early on request after \(trials.count) trials")
            progress(.stopping(reason: "stop requested"))
            return false
        }
        if let deadline = searchDeadline(), !trials.isEmpty, ContinuousClock.now + .seconds(max(1, settings.timeBudget * 0.02)) > deadline { return false }
        return true
    }

    /// Evaluates one candidate within its share of the budget and the memory budget, and records it.
    private mutating func runTrial(_ candidate: Portfolio.Candidate, share: Double, pruning: Bool, progress: (SearchEvent) -> Void,
                                   completes: Int? = nil) {
        let id = trials.count + 1
        progress(.trialStarted(id: id, family: candidate.family, summary: candidate.summary))
        if let replay = settings.replay, replay.stoppedTrials.contains(id) {
            trials.append(TrialResult(id: id, family: candidate.family, summary: candidate.summary, learner: candidate.learner,
                                      foldScores: [], mean: .nan, std: .nan, fitSeconds: 0, predictMillisecondsPer1000: 0, bestRounds: [],
                                      status: .stopped, message: "stopped at the search deadline (replayed)"))
            return
        }
        // Sized for the refit on every search row, the largest fit the trial may lead to.
        let need = MemoryBudget.trialBytes(candidate.learner, rows: searchFrame.rowCount, features: evaluator.featureCount, outputs: evaluator.outputs)
        if memory.folds + need > memory.budget {
            trials.append(TrialResult(id: id, family: candidate.family, summary: candidate.summary, learner: candidate.learner,
                                      foldScores: [], mean: .nan, std: .nan, fitSeconds: 0, predictMillisecondsPer1000: 0, bestRounds: [],
                                      status: .failed, message: "left out: would need about \(MemoryBudget.megabytes(need)) beside the folds' \(MemoryBudget.megabytes(memory.folds)), over the memory budget of \(MemoryBudget.megabytes(memory.budget)) (--max-memory)"))
            progress(.trialFinished(trials[trials.count - 1], best: leader(trials.filter { $0.status == .completed }), elapsed: (ContinuousClock.now - started).seconds))
            return
        }
        // Two folds at once when there are cores for it and two fits fit in memory beside the folds.
        evaluator.parallelFolds = Parallel.coreCount > 1 && evaluator.folds.count > 1 && memory.folds + 2 * need <= memory.budget ? 2 : 1
        memory.largestTrial = max(memory.largestTrial, need * evaluator.parallelFolds)
        // No trial may take more than a share of the budget: one slow configuration cannot starve the rest.
        let searchDeadline = searchDeadline()
        let cap = ContinuousClock.now + .seconds(settings.timeBudget * share)
        let trialDeadline = searchDeadline.map { min($0, cap) }
        let evaluation = evaluator.evaluate(candidate, id: id, deadline: trialDeadline,
                                            leader: pruning ? leader(trials.filter { $0.status == .completed }) : nil,
                                            measureEncoding: encodeSecondsPerValue == nil)
        if let encodeSeconds = evaluation.encodeSeconds, let values = evaluation.result.storedValues {
            encodeSecondsPerValue = encodeSeconds / Double(values) / pace.slowdown()
        }
        let margins = evaluation.outOfFold
        var result = evaluation.result
        if result.status == .stopped, let searchDeadline, cap < searchDeadline {
            result.message = "stopped at its share of the budget (\(Int(share * 100))%, \(Search.format(settings.timeBudget * share)) s)"
        }
        result.completes = completes
        trials.append(result)
        if let margins { outOfFold[result.id] = margins }
        if result.status == .completed, let model = evaluation.firstFoldModel, leader(trials.filter { $0.status == .completed })?.id == result.id {
            leaderFoldModel = (result.id, model)
        }
        progress(.trialFinished(result, best: leader(trials.filter { $0.status == .completed }), elapsed: (ContinuousClock.now - started).seconds))
    }

    /// The most of the time budget one trial may take (half of it for the portfolio's costly entries).
    static let trialShare = 0.3
    /// Trials without a new leader after which the search ends: past that point, more variations mostly
    /// find configurations that look better by chance on the same folds.
    static let patience = 60

    private func leader(_ completed: [TrialResult]) -> TrialResult? {
        completed.min { a, b in metric.higherIsBetter ? a.mean > b.mean : a.mean < b.mean }
    }

    /// The best trial (or a glassbox model within `preferInterpretable`), refitted on the search part; an
    /// ensemble when selection beats it out of fold and time allows; a faster model when the measured
    /// single-row latency is over the limit.
    mutating func choose(progress: (SearchEvent) -> Void) throws -> Choice {
        let completed = trials.filter { $0.status == .completed }
        var best = leader(completed)
        var allowEnsemble = settings.maxPredictMilliseconds == nil
        if let tolerance = settings.preferInterpretable, let top = best, !["linear", "ebm"].contains(top.family),
           let glassbox = leader(completed.filter { ["linear", "ebm"].contains($0.family) }), abs(top.mean - glassbox.mean) <= tolerance {
            warnings.append("chose the interpretable \(glassbox.family) model (trial \(glassbox.id)), within \(Search.format(abs(top.mean - glassbox.mean))) of the best (--prefer-interpretable \(tolerance))")
            best = glassbox
        }
        if settings.preferInterpretable != nil, let chosen = best, ["linear", "ebm"].contains(chosen.family) { allowEnsemble = false }
        progress(.refitting(best.map { "refitting trial \($0.id) (\($0.family)) on \(searchFrame.rowCount) search rows" } ?? "fitting the baseline"))
        // The refit may run until the model must be final, at the pace the machine has now.
        updateFinalDeadline(values: best?.storedValues ?? 0, predictMillisecondsPer1000: best?.predictMillisecondsPer1000 ?? 0, fresh: true)
        let (pipeline, x) = try Pipeline.fit(searchFrame, schema: schema, target: searchY, options: pipelineOptions)
        guard let chosen = best else {
            if let asked = settings.learners, !asked.contains("linear") {
                // The user asked for families the fallback is not of: say which and why, so the run can fail.
                let why = trials.map { "trial \($0.id) \($0.family) \($0.status.rawValue)\($0.message.map { " (\($0))" } ?? "")" }.joined(separator: "; ")
                fallback = "no trial of \(asked.sorted().joined(separator: ", ")) (--learner) completed\(why.isEmpty ? "" : ": " + why); a ridge model was fitted instead"
            }
            warnings.append("the budget was too small for a single complete trial; shipping the fastest baseline (a ridge model)")
            let baseline = Learner.linear(LinearParameters())
            // The ridge model improves with every pass and may stop after any: it gets half the time left, so
            // that a slow last pass and the steps after it still end within the budget.
            let deadline = finalDeadline.map { ContinuousClock.now + ($0 - ContinuousClock.now) / 2 }
            let model = try baseline.fit(x, target: searchY, weights: searchWeights, deadline: deadline)
            if case .linear(let linear) = model, !linear.converged, let deadline, ContinuousClock.now >= deadline {
                warnings.append("the ridge model stopped at the deadline after \(linear.iterations) coordinate-descent passes, before it converged; give more --time for a converged fit")
                baselineCutShort = true
            }
            return Choice(pipeline: pipeline, model: model, best: nil, ensemble: nil, shipped: [(baseline, 1)], memberSeconds: [0])
        }
        let refitDeadline = finalDeadline
        let foldModel = leaderFoldModel.flatMap { $0.trial == chosen.id ? $0.model : nil }
        let replayedFold = settings.replay?.shippedFoldModel == true && foldModel != nil
        let (model, seconds) = replayedFold ? (foldModel!, 0) : try Search.timed { try fit(chosen, x) }
        var choice = Choice(pipeline: pipeline, model: model, best: chosen, ensemble: nil,
                            shipped: [(Search.refitLearner(chosen), 1)], memberSeconds: [seconds])
        if replayedFold || (refitDeadline.map { ContinuousClock.now >= $0 } ?? false) {
            if let foldModel {
                // The cut-short refit is a lesser model: ship the complete one the trial validated instead.
                let rows = evaluator.folds[0].train.rowCount
                warnings.append("the refit of trial \(chosen.id) on all \(searchFrame.rowCount) search rows was cut short by the time budget; shipping its complete model from the first fold instead (fitted on \(rows) rows, the model cross-validation scored)")
                choice.pipeline = evaluator.folds[0].pipeline
                choice.model = foldModel
                choice.shipped = [(chosen.learner, 1)]
                shippedFoldModel = true
            } else {
                warnings.append("the refit of the chosen model was cut short by the time budget; its holdout score below shows what that cost")
                refitCutShort = true
            }
        }
        let encodeStarted = ContinuousClock.now
        _ = try? Search.modelEncoder().encode(choice.model)
        choice.writeSeconds = (ContinuousClock.now - encodeStarted).seconds
        choice.writeSecondsPerValue = choice.writeSeconds / Double(max(choice.model.storedValues, 1))
        if choice.model.storedValues >= TrialEvaluator.encodingProbeValues {
            encodeSecondsPerValue = choice.writeSecondsPerValue / pace.slowdown()
        }
        updateFinalDeadline(values: choice.model.storedValues, predictMillisecondsPer1000: chosen.predictMillisecondsPer1000)
        // Ensembles only while there is time to refit their members: selection alone takes seconds on large data.
        // (A replay follows the recorded flags, which say what this run skipped.)
        if settings.replay == nil, allowEnsemble, let finalDeadline, refitCutShort || shippedFoldModel || ContinuousClock.now >= finalDeadline {
            allowEnsemble = false
            (ensembleSkipped, stackSkipped) = (true, true)
        }
        if settings.replay != nil, shippedFoldModel || refitCutShort { allowEnsemble = false }
        if allowEnsemble { try blend(&choice, completed: completed, x: x) }
        if allowEnsemble && settings.stack { try stack(&choice, completed: completed, x: x) }
        if allowEnsemble { try bag(&choice, x: x) }
        // (The fold model has its own pipeline, so the search rows' features do not fit it.)
        if let limit = settings.maxPredictMilliseconds, !shippedFoldModel { try keepWithin(limit, &choice, completed: completed, x: x) }
        return choice
    }

    func fit(_ trial: TrialResult, _ x: FeatureMatrix) throws -> FittedModel {
        try Search.refitLearner(trial).fit(x, target: searchY, weights: searchWeights, deadline: finalDeadline)
    }

    /// Scores the holdout once, measures importance on that model, optionally refits on all rows, and reports.
    mutating func finish(_ choice: Choice, progress: (SearchEvent) -> Void) throws -> (TrainedModel, SearchReport) {
        let holdoutFrame = typed.selecting(rows: plan.holdout.validation)
        let holdoutY = plan.holdout.validation.map { y.values[$0] }
        // The time left is sized again for the model as shipped, at the pace the machine has now.
        updateFinalDeadline(values: choice.model.storedValues,
                            predictMillisecondsPer1000: (choice.best?.predictMillisecondsPer1000 ?? 0) * Double(choice.shipped.count), fresh: true)
        let calibration: CalibrationChoice? = outOfFoldMargins(choice).flatMap { margins in
            switch task.kind {
            case .binary:
                CalibrationChoice.decide(margins: margins, labels: searchY.values, metric: metric, costs: settings.costs, seed: settings.seed &+ 29)
            case .multiclass:
                CalibrationChoice.decideMulticlass(margins: margins, labels: searchY.values, classes: y.classCount, seed: settings.seed &+ 29)
            case .regression:
                nil
            }
        }
        var shippedForHoldout = TrainedModel(
            keelVersion: TrainedModel.keelVersion, createdAt: "", schema: schema, pipeline: choice.pipeline, model: choice.model, metric: metric,
            validation: "", crossValidatedScore: 0, holdoutScore: 0, dataFingerprint: "", seed: 0, trialSchedule: [])
        shippedForHoldout.calibration = calibration?.calibration
        // The holdout scores the model as shipped, calibration included.
        let scoringStarted = ContinuousClock.now
        let scoredOutputs = try shippedForHoldout.outputs(holdoutFrame)
        let holdoutScore = try metric.evaluate(truth: holdoutY, predictions: scoredOutputs, classCount: y.classCount)
        let scoringSeconds = (ContinuousClock.now - scoringStarted).seconds
        let cv = choice.ensemble?.outOfFoldScore ?? choice.best?.mean ?? holdoutScore
        let spread = choice.best?.std ?? 0
        // The trivial baseline on the same rows: the search rows' class shares (its probabilities, and so
        // the majority class) for classifiers, their mean for regression. A model that does not beat it by
        // more than the folds' spread is no better than knowing nothing about the row.
        let baseline = Baseline(searchY)
        let baselineScore = try metric.evaluate(truth: holdoutY, predictions: baseline.predictions(rows: holdoutY.count), classCount: y.classCount)
        let margin = metric.higherIsBetter ? holdoutScore - baselineScore : baselineScore - holdoutScore
        let noBetterThanBaseline = !(margin > max(spread, 1e-9))
        if noBetterThanBaseline {
            warnings.append("the model is no better than the baseline (\(baseline.description)): holdout \(metric.rawValue) \(Search.format(holdoutScore)) against \(Search.format(baselineScore)), a difference within the folds' spread (\(Search.format(spread))); its predictions carry no more information than the target's distribution (--require-better-than-baseline makes this an error)")
        }
        let gap = metric.higherIsBetter ? cv - holdoutScore : holdoutScore - cv
        // One validation split has no spread to compare with; the warning needs folds.
        if gap > 2 * spread + 1e-9, let best = choice.best, best.foldScores.count > 1 {
            warnings.append("the holdout \(metric.rawValue) is worse than cross-validation by \(Search.format(gap)), more than twice the folds' spread (\(Search.format(spread))): the validation score is optimistic")
        }
        var trained = TrainedModel(
            keelVersion: TrainedModel.keelVersion, createdAt: ISO8601DateFormatter().string(from: Date()), schema: schema,
            pipeline: choice.pipeline, model: choice.model, metric: metric, validation: plan.description, crossValidatedScore: cv,
            holdoutScore: holdoutScore, dataFingerprint: frame.fingerprint, seed: settings.seed, trialSchedule: trials.map(\.learner))
        trained.calibration = calibration?.calibration
        trained.decisionThreshold = calibration.map { $0.thresholdReason == "default" ? nil : $0.threshold } ?? nil
        // The model the holdout scored is the one importance and attributions describe; a refit on all rows
        // comes first, as it is the one step that changes what ships, and the analyses get the time left.
        let scored = trained
        let refitted = settings.refitFull ? try refitOnAllRows(&trained, choice, progress: progress) : false
        holdoutOutputs = refitted ? nil : scoredOutputs
        // The final deadline keeps back the time the writes after the search take.
        let analysisDeadline = finalDeadline
        // Three shuffles of every column, on as many holdout rows as fit in 40% of the time left (at least 200).
        let passes = Double(3 * schema.featureNames.count)
        let available = analysisDeadline.map { ($0 - ContinuousClock.now).seconds * 0.4 } ?? .infinity
        var importanceRows = Array(0..<holdoutFrame.rowCount)
        if passes * scoringSeconds > available, holdoutFrame.rowCount > 200 {
            var generator = SeededGenerator(seed: settings.seed &+ 5)
            generator.shuffle(&importanceRows)
            let share = max(available, 0) / (passes * scoringSeconds)
            importanceRows = Array(importanceRows.prefix(max(200, Int(Double(importanceRows.count) * share)))).sorted()
            warnings.append("feature importance was measured on \(importanceRows.count) of the \(holdoutFrame.rowCount) holdout rows, to keep within the budget")
        }
        let importance = try PermutationImportance.compute(model: scored, frame: holdoutFrame.selecting(rows: importanceRows),
                                                           truth: importanceRows.map { holdoutY[$0] }, repeats: 3,
                                                           seed: settings.seed &+ 3, deadline: analysisDeadline)
        if importance == nil {
            // One verdict: a sample that was planned but never measured is not reported as measured.
            warnings.removeAll { $0.hasPrefix("feature importance was measured on") }
            warnings.append("no time was left to measure feature importance")
        }
        // Attributions cost about as much as a few predictions per row; 200 rows when a tenth of the budget is left.
        var attribution: [ColumnAttribution] = []
        if analysisDeadline.map({ ContinuousClock.now + .seconds(settings.timeBudget * 0.1) < $0 }) ?? true {
            let rows = Array(0..<min(200, holdoutFrame.rowCount))
            attribution = ColumnAttribution.ranking(try Explainer.attributions(scored, frame: holdoutFrame.selecting(rows: rows)))
        }
        var report = SearchReport(
            task: task.kind, metric: metric, validation: plan.description, searchRows: searchFrame.rowCount,
            holdoutRows: holdoutFrame.rowCount, droppedRows: dropped, trials: trials, bestTrial: choice.best?.id ?? 0,
            crossValidatedScore: cv, crossValidatedStd: spread, holdoutScore: holdoutScore, gap: gap, ensemble: choice.ensemble,
            importance: importance ?? [], attributionImportance: attribution, calibration: calibration, refittedOnAllRows: refitted, warnings: warnings,
            secondsUsed: (ContinuousClock.now - started).seconds, budgetSeconds: settings.trials == nil ? settings.timeBudget : nil,
            seed: settings.seed, memory: memory,
            replay: ReplaySchedule(trialCount: trials.count, stoppedTrials: trials.filter { $0.status == .stopped }.map(\.id),
                                   ensembleSkipped: ensembleSkipped, ensembleMembers: ensembleMembers, stackSkipped: stackSkipped,
                                   seedBagged: seedBagged, refitCutShort: refitCutShort,
                                   refittedOnAllRows: refitted))
        report.fallback = fallback
        report.leftOut = LeftOutColumn.list(schema: schema, frame: frame, screened: Set(columnScreen.filter(\.dropped).map(\.column)),
                                            probed: identifierScreen.map { ($0.column, $0.probeScores(metric)) })
        report.baseline = SearchReport.BaselineComparison(description: baseline.description, holdoutScore: baselineScore,
                                                          noBetter: noBetterThanBaseline)
        report.replay.columnScreen = settings.screenColumns ? columnScreen : nil
        report.replay.identifierScreen = settings.screenColumns ? identifierScreen : nil
        report.replay.valueScreen = valueScreen
        report.replay.shippedFoldModel = shippedFoldModel ? true : nil
        report.replay.ensemblePicks = ensemblePicks
        report.replay.baselineCutShort = baselineCutShort ? true : nil
        report.seedBags = seedBagged ? Self.seedBags : nil
        return (trained, report)
    }

    /// The shipped model's out-of-fold margins: the chosen trial's, or the ensemble's weighted blend.
    func outOfFoldMargins(_ choice: Choice) -> [Double]? {
        if let ensemble = choice.ensemble {
            var blend: [Double]?
            for (member, weight) in zip(ensemble.members, ensemble.weights) {
                guard let margins = outOfFold[member] else { return nil }
                if blend == nil { blend = ensemble.intercepts.map { b in margins.indices.map { b[$0 % b.count] } } ?? [Double](repeating: 0, count: margins.count) }
                for i in margins.indices { blend![i] += weight * margins[i] }
            }
            return blend
        }
        return choice.best.flatMap { outOfFold[$0.id] }
    }

    /// How many times a refit on the search rows a refit on all rows takes: the rows' ratio, with a 30% margin.
    var fullRefitScale: Double { Double(typed.rowCount) / Double(max(searchFrame.rowCount, 1)) * 1.3 }

    private mutating func refitOnAllRows(_ trained: inout TrainedModel, _ choice: Choice, progress: (SearchEvent) -> Void) throws -> Bool {
        let estimate = choice.refitSeconds * fullRefitScale + choice.writeEstimate(choice.model)
        if let replay = settings.replay, !replay.refittedOnAllRows {
            warnings.append("no time was left to refit on all rows (--refit-full); shipping the model the holdout scored (replayed)")
            return false
        }
        if let finalDeadline, ContinuousClock.now + .seconds(estimate) > finalDeadline {
            warnings.append("no time was left to refit on all rows (--refit-full); shipping the model the holdout scored")
            return false
        }
        progress(.refitting("refitting on all \(typed.rowCount) rows (--refit-full)"))
        let (pipeline, model) = try Search.refitAll(choice.shipped, intercepts: choice.ensemble?.intercepts, frame: typed, schema: schema, target: y, weights: weights,
                                                    task: task.kind, outputs: evaluator.outputs, options: pipelineOptions, deadline: finalDeadline)
        // A refit the deadline cut short is a lesser model than the one the holdout scored: never ship it.
        if let finalDeadline, ContinuousClock.now >= finalDeadline {
            warnings.append("the refit on all rows (--refit-full) ran out of time; shipping the model the holdout scored")
            return false
        }
        (trained.pipeline, trained.model) = (pipeline, model)
        trained.refittedOnAllRows = true
        warnings.append("the shipped model was refitted on all \(typed.rowCount) rows after the holdout was scored: the holdout score describes the model before that refit")
        return true
    }
}
